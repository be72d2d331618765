/**
 * The history store against a real MariaDB (store-test-db.ts): its schema, the history, the
 * hosts' snapshot, corrupt rows, and errors without the password. The claim: store-evacuations.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "./store.ts";
import { connectPool, storeOptions } from "./store-connect.ts";
import { ensureSchema } from "./store-schema.ts";
import { caught, startTestDb, TEST_PASSWORD, type TestDb } from "./store-test-db.ts";

let db: TestDb;
beforeAll(async () => {
  db = await startTestDb();
});
afterAll(() => db?.stop());

describe("the instance-HA history store on a real MariaDB", () => {
  it("creates its schema once: a second creation changes nothing, every table InnoDB with a primary key", async () => {
    const { database, raw } = await db.fresh();
    const at = new Date("2026-12-03T10:00:00.123Z");
    const store = await db.open(db.options(database), () => at);
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
    const pool = connectPool(storeOptions(db.options(database)));
    await ensureSchema(pool, new Date("2027-01-01T00:00:00Z"));
    await pool.end();
    await db.open(db.options(database, "ctl2"));
    expect(await tables()).toEqual(before);

    // A schema from a newer engine is refused, not written over.
    await raw.query("UPDATE ha_schema SET version = 2");
    const e = await caught(openStore(db.options(database)));
    expect(e.code).toBe("E_HA_STORE_SCHEMA");
    expect(e.message).toContain("version 2, this engine knows 1");
  });

  it("records the history and reads it back by host, kind and time, newest `limit` oldest first", async () => {
    const { database } = await db.fresh();
    const store = await db.open(db.options(database));
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

  it("round-trips a host's snapshot, overwrites it, and another engine reads what the first wrote", async () => {
    const { database } = await db.fresh();
    const now = new Date("2026-12-03T10:05:00.042Z");
    const active = await db.open(db.options(database, "ctl1"), () => now);
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
    const standby = await db.open(db.options(database, "ctl2"));
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
    const { database, raw } = await db.fresh();
    const store = await db.open(db.options(database));
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
    const { database } = await db.fresh();
    const wrong = `${TEST_PASSWORD}-wrong`;
    const e = await caught(openStore({ ...db.options(database), password: wrong }));
    expect(e.code).toBe("E_HA_STORE_CONNECT");
    expect(e.message).toContain("Access denied for user 'hastack_ha'");
    const everything = JSON.stringify({
      message: e.message,
      hint: e.hint,
      cause: String(e.cause),
      stack: e.stack,
    });
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(TEST_PASSWORD);

    const nowhere = await caught(
      openStore({ ...db.options(database), socketPath: `${db.socketPath}.missing`, connectTimeoutMs: 500 }),
    );
    expect(nowhere.code).toBe("E_HA_STORE_CONNECT");
  });
});
