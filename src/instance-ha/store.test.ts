/**
 * The history store against a real MariaDB (Debian 13's mariadbd, in a throwaway container on the
 * lab image). The container has its own network; the test reaches mariadbd through its Unix
 * socket, seen from here under /proc/<pid>/root. Each test has its own database.
 */
import { type Connection, createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Container, startContainer } from "../services/openstack/test-container.ts";
import { HastackError } from "../util/errors.ts";
import { openStore, type Store, type StoreOptions } from "./store.ts";
import { connectPool, storeOptions } from "./store-connect.ts";
import { ensureSchema } from "./store-schema.ts";

const PASSWORD = "s3cret-Pw-for-the-test";
let container: Container;
let socketPath: string;
const opened: Store[] = [];
const raws: Connection[] = [];

beforeAll(async () => {
  container = await startContainer(
    "mariadb",
    [
      "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld",
      "mariadbd --user=mysql --wsrep-on=OFF > /tmp/mariadb.log 2>&1 &",
      "for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done",
      // As the deploy grants it (ALL on its own database), on every test's database.
      `mariadb -e "CREATE USER hastack_ha@localhost IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON \\\`hastack\\_ha%\\\`.* TO hastack_ha@localhost"`,
    ].join("\n"),
  );
  socketPath = `${container.root}/run/mysqld/mysqld.sock`;
});

afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
  for (const c of raws) c.destroy();
  await container?.stop();
});

let databases = 0;
/** A fresh database for one test, and a root-free raw connection to it for checks and corruption. */
async function freshDatabase(): Promise<{ database: string; raw: Connection }> {
  const database = `hastack_ha_t${++databases}`;
  const admin = await createConnection({ socketPath, user: "hastack_ha", password: PASSWORD });
  await admin.query(`CREATE DATABASE ${database}`);
  admin.destroy();
  const raw = await createConnection({ socketPath, user: "hastack_ha", password: PASSWORD, database });
  raws.push(raw);
  return { database, raw };
}

function options(database: string, engine = "ctl1"): StoreOptions {
  return { socketPath, password: PASSWORD, database, engine };
}

async function open(o: StoreOptions, clock?: () => Date): Promise<Store> {
  const store = await openStore(o, clock);
  opened.push(store);
  return store;
}

async function caught(promise: Promise<unknown>): Promise<HastackError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof HastackError)) throw new Error(`expected a HastackError, got ${String(e)}`);
  return e;
}

describe("the instance-HA history store on a real MariaDB", () => {
  it("creates its schema once: a second creation changes nothing, every table InnoDB with a primary key", async () => {
    const { database, raw } = await freshDatabase();
    const at = new Date("2026-12-03T10:00:00.123Z");
    const store = await open(options(database), () => at);
    await store.record({ at, kind: "operator", detail: "kept across a second creation" });
    const tables = async () => {
      const [rows] = await raw.query(
        "SELECT TABLE_NAME AS t, ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY t",
      );
      const out: Record<string, string> = {};
      for (const { t } of rows as { t: string }[]) {
        const [show] = await raw.query(`SHOW CREATE TABLE ${t}`);
        out[t] = (show as Record<string, string>[])[0]?.["Create Table"] ?? "";
      }
      const [version] = await raw.query("SELECT id, version, applied_at FROM ha_schema");
      const [events] = await raw.query("SELECT COUNT(*) AS n FROM ha_events");
      return { tables: out, engines: rows, version, events };
    };
    const before = await tables();
    expect(Object.keys(before.tables)).toEqual(["ha_evacuations", "ha_events", "ha_hosts", "ha_schema"]);
    for (const [name, ddl] of Object.entries(before.tables)) {
      expect(ddl, name).toContain("PRIMARY KEY");
      expect(ddl, name).toContain("ENGINE=InnoDB");
      expect(ddl, name).toContain("CHARSET=utf8mb4");
    }
    expect(before.version).toEqual([{ id: 1, version: 1, applied_at: at }]);

    // The creation itself, run again on the current schema (openStore skips it then), and a
    // second open: nothing changes, the data stays.
    const pool = connectPool(storeOptions(options(database)));
    await ensureSchema(pool, new Date("2027-01-01T00:00:00Z"));
    await pool.end();
    await open(options(database, "ctl2"));
    expect(await tables()).toEqual(before);

    // A schema from a newer engine is refused, not written over.
    await raw.query("UPDATE ha_schema SET version = 2");
    const e = await caught(openStore(options(database)));
    expect(e.code).toBe("E_HA_STORE_SCHEMA");
    expect(e.message).toContain("version 2, this engine knows 1");
  });

  it("records the history and reads it back by host, kind and time, newest `limit` oldest first", async () => {
    const { database } = await freshDatabase();
    const store = await open(options(database));
    const t = (s: number) => new Date(Date.UTC(2026, 11, 3, 10, 0, s, 250));
    await store.record({
      at: t(1),
      host: "cmp1",
      kind: "phase",
      phaseFrom: "healthy",
      phaseTo: "suspect",
      detail: "suspect: no heartbeat",
    });
    await store.record({
      at: t(2),
      host: "cmp2",
      kind: "phase",
      phaseFrom: "healthy",
      phaseTo: "suspect",
      detail: "suspect",
    });
    await store.record({
      at: t(3),
      host: "cmp1",
      kind: "gate",
      detail: "valve open",
      data: { gate: "valve", act: true, hosts: ["cmp1"], ratio: 0.5, note: null },
    });
    await store.record({ at: t(4), kind: "alert", detail: "valve closed: an outage?" });
    await store.record({
      at: t(5),
      host: "cmp1",
      kind: "fence",
      detail: "fenced (power off confirmed)",
      data: { method: "power" },
    });

    const all = await store.history({ limit: 100 });
    expect(all.map((e) => e.at)).toEqual([t(1), t(2), t(3), t(4), t(5)]);
    expect(all[0]).toEqual({
      id: all[0]?.id,
      at: t(1),
      engine: "ctl1",
      host: "cmp1",
      kind: "phase",
      phaseFrom: "healthy",
      phaseTo: "suspect",
      detail: "suspect: no heartbeat",
    });
    // No host: the key is absent, not null (a row read back equals what was written).
    expect(all[3]).toEqual({
      id: all[3]?.id,
      at: t(4),
      engine: "ctl1",
      kind: "alert",
      detail: "valve closed: an outage?",
    });
    expect(all[2]?.data).toEqual({ gate: "valve", act: true, hosts: ["cmp1"], ratio: 0.5, note: null });

    expect((await store.history({ host: "cmp1", limit: 10 })).map((e) => e.detail)).toEqual([
      "suspect: no heartbeat",
      "valve open",
      "fenced (power off confirmed)",
    ]);
    expect((await store.history({ host: "cmp1", limit: 2 })).map((e) => e.at)).toEqual([t(3), t(5)]);
    expect((await store.history({ since: t(3), limit: 10 })).map((e) => e.at)).toEqual([t(3), t(4), t(5)]);
    expect((await store.history({ kind: "phase", since: t(2), limit: 10 })).map((e) => e.host)).toEqual([
      "cmp2",
    ]);
    expect(await store.history({ host: "cmp9", limit: 10 })).toEqual([]);
  });

  it("lets exactly one of two engines racing on their own connections claim each server's evacuation", async () => {
    const { database, raw } = await freshDatabase();
    const a = await open(options(database, "ctl1"));
    const b = await open(options(database, "ctl2"));
    const at = new Date("2026-12-03T10:00:00Z");
    const servers = Array.from({ length: 40 }, (_, i) => `srv-${String(i).padStart(2, "0")}`);
    const claim = (store: Store, serverId: string) =>
      store.claimEvacuation({ episode: "ep-1", serverId, name: serverId, fromHost: "cmp1", at });
    // Both engines ask for every server at once, in opposite orders so they meet in the middle.
    const [fromA, fromB] = await Promise.all([
      Promise.all(servers.map((s) => claim(a, s))),
      Promise.all([...servers].reverse().map((s) => claim(b, s))).then((r) => r.reverse()),
    ]);
    servers.forEach((s, i) => {
      expect([fromA[i], fromB[i]].filter(Boolean), s).toHaveLength(1);
    });
    const rows = await a.evacuations("ep-1");
    expect(rows).toHaveLength(servers.length);
    for (const [i, row] of rows.entries()) expect(row.claimedBy).toBe(fromA[i] ? "ctl1" : "ctl2");
    // A claim decided long ago loses too, and so does the winner's own second try.
    const winner = fromA[0] ? a : b;
    expect(await claim(winner, "srv-00")).toBe(false);
    // Another episode of the same host is another failure: its servers can be claimed again.
    expect(
      await claim(b, "srv-00").then(() =>
        b.claimEvacuation({ episode: "ep-2", serverId: "srv-00", name: "srv-00", fromHost: "cmp1", at }),
      ),
    ).toBe(true);

    // A standby adopting a dead engine's claim: one of two racing takers gets it.
    const [c, d] = [await open(options(database, "ctl3")), await open(options(database, "ctl4"))];
    const from = rows[0]?.claimedBy ?? "";
    const adopted = await Promise.all([
      c.adoptClaim("ep-1", "srv-00", from),
      d.adoptClaim("ep-1", "srv-00", from),
    ]);
    expect(adopted.filter(Boolean)).toHaveLength(1);
    // Once asked of Nova, a claim is no longer adoptable: the standby reconciles it instead.
    await c.recordEvacuation({ episode: "ep-1", serverId: "srv-01", status: "requested", attempts: 1 });
    expect(await c.adoptClaim("ep-1", "srv-01", rows[1]?.claimedBy ?? "")).toBe(false);
    const [[counts]] = (await raw.query(
      "SELECT COUNT(*) AS n, COUNT(DISTINCT claim_token) AS tokens FROM ha_evacuations WHERE episode = 'ep-1'",
    )) as unknown as [[{ n: number; tokens: number }]];
    expect(counts).toEqual({ n: 40, tokens: 40 });
  });

  it("updates a claimed evacuation and refuses to update one never claimed", async () => {
    const { database } = await freshDatabase();
    const store = await open(options(database));
    const started = new Date("2026-12-03T10:00:00.001Z");
    const finished = new Date("2026-12-03T10:01:30.999Z");
    expect(
      await store.claimEvacuation({
        episode: "ep-1",
        serverId: "srv-a",
        name: "web-1",
        fromHost: "cmp1",
        at: started,
      }),
    ).toBe(true);
    await store.recordEvacuation({
      episode: "ep-1",
      serverId: "srv-a",
      status: "requested",
      attempts: 1,
      toHost: "cmp2",
    });
    // Same values again: still found (matched rows count, not changed ones).
    await store.recordEvacuation({ episode: "ep-1", serverId: "srv-a", status: "requested", attempts: 1 });
    await store.recordEvacuation({
      episode: "ep-1",
      serverId: "srv-a",
      status: "done",
      finishedAt: finished,
      detail: "ACTIVE on cmp2",
    });
    expect(await store.evacuations("ep-1")).toEqual([
      {
        episode: "ep-1",
        serverId: "srv-a",
        name: "web-1",
        fromHost: "cmp1",
        toHost: "cmp2",
        attempts: 1,
        status: "done",
        claimedBy: "ctl1",
        startedAt: started,
        finishedAt: finished,
        detail: "ACTIVE on cmp2",
      },
    ]);
    const e = await caught(store.recordEvacuation({ episode: "ep-1", serverId: "srv-b", status: "done" }));
    expect(e.code).toBe("E_HA_STORE_QUERY");
    expect(e.message).toContain("never claimed");
  });

  it("round-trips a host's snapshot, overwrites it, and another engine reads what the first wrote", async () => {
    const { database } = await freshDatabase();
    const now = new Date("2026-12-03T10:05:00.042Z");
    const active = await open(options(database, "ctl1"), () => now);
    const evacuating = {
      host: "cmp1",
      phase: "evacuating" as const,
      since: new Date("2026-12-03T10:04:59.999Z"),
      episode: "ep-7",
      fencedBootId: "4b0c6a1e-boot",
      fenceMethod: "power" as const,
      holdDisabled: true,
      recoveredAt: new Date("2026-12-03T09:30:00.500Z"),
    };
    await active.upsertHost(evacuating);
    await active.upsertHost({ host: "cmp2", phase: "healthy", since: now, holdDisabled: false });
    const standby = await open(options(database, "ctl2"));
    expect(await standby.hosts()).toEqual([
      { ...evacuating, engine: "ctl1", updatedAt: now },
      { host: "cmp2", phase: "healthy", since: now, holdDisabled: false, engine: "ctl1", updatedAt: now },
    ]);
    // Back to healthy: the episode's fields go, they are not left from the last write.
    await standby.upsertHost({ host: "cmp1", phase: "healthy", since: now, holdDisabled: false });
    const [cmp1] = await standby.hosts();
    expect(cmp1).toEqual({
      host: "cmp1",
      phase: "healthy",
      since: now,
      holdDisabled: false,
      engine: "ctl2",
      updatedAt: cmp1?.updatedAt,
    });
  });

  it("refuses a corrupt row with an error naming its table, row and column", async () => {
    const { database, raw } = await freshDatabase();
    const store = await open(options(database));
    const at = new Date();
    await store.upsertHost({ host: "cmp1", phase: "fenced", since: at, holdDisabled: false });
    await raw.query("UPDATE ha_hosts SET phase = 'exploded' WHERE host = 'cmp1'");
    const e = await caught(store.hosts());
    expect(e.code).toBe("E_HA_STORE_ROW");
    expect(e.message).toMatch(/^Cannot read ha_hosts row cmp1: phase: /);

    const id = await store.record({
      at,
      host: "cmp1",
      kind: "fence",
      detail: "fenced",
      data: { method: "power" },
    });
    await raw.query("UPDATE ha_events SET data = '[1, 2]' WHERE id = ?", [id]);
    const bad = await caught(store.history({ limit: 10 }));
    expect(bad.code).toBe("E_HA_STORE_ROW");
    expect(bad.message).toMatch(new RegExp(`^Cannot read ha_events row id ${id}: data: `));
  });

  it("never puts the password in an error", async () => {
    const { database } = await freshDatabase();
    const wrong = `${PASSWORD}-wrong`;
    const e = await caught(openStore({ ...options(database), password: wrong }));
    expect(e.code).toBe("E_HA_STORE_CONNECT");
    expect(e.message).toContain("Access denied for user 'hastack_ha'");
    const everything = JSON.stringify({
      message: e.message,
      hint: e.hint,
      cause: String(e.cause),
      stack: e.stack,
    });
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);

    const nowhere = await caught(
      openStore({ ...options(database), socketPath: `${socketPath}.missing`, connectTimeoutMs: 500 }),
    );
    expect(nowhere.code).toBe("E_HA_STORE_CONNECT");
  });
});
