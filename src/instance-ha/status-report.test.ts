/**
 * `ha status` and `ha history` as the operator reads them: rows written through the Store into a
 * real MariaDB (store-test-db.ts), read back by readStatus, worded by statusLines/historyLines.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { historyLines, readStatus, statusLines } from "./status-report.ts";
import { type EvacuationUpdate, type EventKind, type HaEvent, openStore, type Store } from "./store.ts";
import { caught, startTestDb, TEST_PASSWORD, type TestDb } from "./store-test-db.ts";

let db: TestDb;
beforeAll(async () => {
  db = await startTestDb();
});
afterAll(() => db?.stop());

const t = (hms: string) => new Date(`2026-12-03T${hms}Z`);
const NOW = t("10:30:00");

/** cmp1 failed at 10:00, fenced by power, evacuating since 10:02: one VM done, one asked, one failed. */
/** A history entry about cmp1 at `hms`. */
function cmp1(hms: string, kind: EventKind, detail: string, more: Partial<HaEvent> = {}): HaEvent {
  return { at: t(hms), host: "cmp1", kind, detail, ...more };
}

async function evacuatingSite(store: Store): Promise<void> {
  const episode = "cmp1@2026-12-03T10:00:00.000Z";
  const entries = [
    cmp1("10:00:00", "phase", "silent for 10 s", { phaseFrom: "suspect", phaseTo: "failed" }),
    cmp1("10:00:01", "gate", "fence cmp1: it failed alone", { data: { act: true } }),
    cmp1("10:01:30", "fence", "cmp1 powered off (power)", { data: { ok: true } }),
    cmp1("10:02:00", "gate", "evacuate cmp1: the control plane is up", { data: { act: true } }),
  ];
  for (const e of entries) await store.record(e);
  const snapshot = { since: t("10:02:00"), episode, fenceMethod: "power", holdDisabled: false } as const;
  await store.upsertHost({ host: "cmp1", phase: "evacuating", ...snapshot });
  await store.upsertHost({ host: "cmp2", phase: "healthy", since: t("09:00:00"), holdDisabled: false });
  const vms: [string, string, EvacuationUpdate][] = [
    [
      "id-a",
      "web-1",
      { episode, serverId: "id-a", status: "done", toHost: "cmp2", attempts: 1, finishedAt: t("10:03:00") },
    ],
    ["id-b", "db-1", { episode, serverId: "id-b", status: "requested", toHost: "cmp3", attempts: 1 }],
    ["id-c", "big-1", { episode, serverId: "id-c", status: "failed", attempts: 3, detail: "NoValidHost" }],
  ];
  for (const [serverId, name] of vms)
    expect(
      await store.claimEvacuation({ episode, serverId, name, fromHost: "cmp1", at: t("10:02:01") }),
    ).toBe(true);
  for (const [, , update] of vms) await store.recordEvacuation(update);
  await store.record(cmp1("10:03:00", "evacuation", "evacuating cmp1"));
}

describe("ha status and ha history against a real MariaDB", () => {
  it("shows each compute's phase, episode and evacuations VM by VM, the latest gates and the last entry", async () => {
    const { database } = await db.fresh();
    const store = await db.open(db.options(database, "ctl1"), () => t("10:02:00"));
    await evacuatingSite(store);

    // cmp3 is a compute of the inventory that never changed phase: no snapshot, shown healthy.
    const status = await readStatus(store, ["cmp1", "cmp2", "cmp3"], NOW);
    expect(statusLines(status)).toEqual([
      "instance HA at 2026-12-03T10:30:00Z: 1 of 3 compute(s) in trouble",
      "cmp1  evacuating  since 2026-12-03T10:02:00Z (28m 0s ago)  episode cmp1@2026-12-03T10:00:00.000Z  fenced by power",
      "      written by ctl1 at 2026-12-03T10:02:00Z",
      "      last gate 2026-12-03T10:02:00Z: act: evacuate cmp1: the control plane is up",
      "      evacuations: 1 done, 1 requested, 1 failed",
      "        web-1 (id-a): done on cmp2, 1 attempt(s)",
      "        db-1 (id-b): requested on cmp3, 1 attempt(s)",
      "        big-1 (id-c): failed, 3 attempt(s): NoValidHost",
      "cmp2  healthy  since 2026-12-03T09:00:00Z (1h 30m ago)",
      "      written by ctl1 at 2026-12-03T10:02:00Z",
      "cmp3  healthy  (no change recorded while an engine watched it)",
      "recent gate decisions (newest last):",
      "  2026-12-03T10:00:01Z  cmp1  gate        act: fence cmp1: it failed alone  [ctl1]",
      "  2026-12-03T10:02:00Z  cmp1  gate        act: evacuate cmp1: the control plane is up  [ctl1]",
      "last entry in the history: 2026-12-03T10:03:00Z (27m 0s ago) by ctl1: evacuating cmp1",
    ]);

    // --json: the rows as the store read them (dates as ISO strings), nothing reworded.
    const json = JSON.parse(JSON.stringify(status)) as {
      hosts: {
        host: string;
        snapshot?: { phase: string; episode?: string };
        evacuations: { status: string }[];
      }[];
      dryRun?: unknown;
    };
    expect(json.hosts.map((h) => [h.host, h.snapshot?.phase, h.evacuations.map((e) => e.status)])).toEqual([
      ["cmp1", "evacuating", ["done", "requested", "failed"]],
      ["cmp2", "healthy", []],
      ["cmp3", undefined, []],
    ]);
    expect(json.dryRun).toBeUndefined();
    expect(status.hosts[0]?.evacuations[0]).toMatchObject({
      serverId: "id-a",
      toHost: "cmp2",
      finishedAt: t("10:03:00"),
    });
  });

  it("says the engine runs dry and which gate blocks a host, until a later decision acts", async () => {
    const { database } = await db.fresh();
    const store = await db.open(db.options(database, "ctl2"), () => t("10:05:00"));
    for (const host of ["cmp1", "cmp2"])
      await store.upsertHost({
        host,
        phase: "failed",
        since: t("10:04:00"),
        episode: `${host}@x`,
        holdDisabled: false,
      });
    const gate = (hms: string, host: string, detail: string, name: string): HaEvent => ({
      at: t(hms),
      host,
      kind: "gate",
      detail,
      data: { act: false, gate: name },
    });
    await store.record(gate("10:04:01", "cmp1", "dry run: would fence cmp1 (silent)", "dry-run"));
    await store.record(gate("10:04:02", "cmp2", "3 hosts in trouble within 60 s: an outage", "valve"));

    const dry = statusLines(await readStatus(store, ["cmp1", "cmp2"], NOW));
    expect(dry[1]).toBe(
      "DRY RUN: the engine decides and records, but never fences or evacuates (its last decision, 2026-12-03T10:04:01Z: dry run: would fence cmp1 (silent))",
    );
    expect(dry).toContain(
      "      last gate 2026-12-03T10:04:01Z: dry run: dry run: would fence cmp1 (silent)",
    );
    expect(dry).toContain(
      "      last gate 2026-12-03T10:04:02Z: BLOCKED by valve: 3 hosts in trouble within 60 s: an outage",
    );

    // dry_run turned off: the next decision that passes the gates acts, and the banner goes.
    await store.record({
      at: t("10:06:00"),
      host: "cmp1",
      kind: "gate",
      detail: "fence cmp1",
      data: { act: true },
    });
    const live = await readStatus(store, ["cmp1", "cmp2"], NOW);
    expect(live.dryRun).toBeUndefined();
    expect(statusLines(live).some((l) => l.startsWith("DRY RUN"))).toBe(false);
    // A healthy host's old verdict is not shown as if it stood.
    await store.upsertHost({ host: "cmp2", phase: "healthy", since: t("10:10:00"), holdDisabled: false });
    expect((await readStatus(store, ["cmp1", "cmp2"], NOW)).hosts[1]?.lastGate).toBeUndefined();
  });

  it("lists the history one line per entry, filtered as asked, engine-wide entries under '-'", async () => {
    const { database } = await db.fresh();
    const store = await db.open(db.options(database, "ctl1"), () => t("10:02:00"));
    await store.record({ at: t("09:59:00"), kind: "alert", detail: "resumed 2 host(s) from the history" });
    await evacuatingSite(store);

    expect(historyLines(await store.history({ since: t("10:01:00"), limit: 50 }))).toEqual([
      "2026-12-03T10:01:30Z  cmp1  fence       cmp1 powered off (power)  [ctl1]",
      "2026-12-03T10:02:00Z  cmp1  gate        act: evacuate cmp1: the control plane is up  [ctl1]",
      "2026-12-03T10:03:00Z  cmp1  evacuation  evacuating cmp1  [ctl1]",
    ]);
    expect(historyLines(await store.history({ kind: "phase", limit: 50 }))).toEqual([
      "2026-12-03T10:00:00Z  cmp1  phase       suspect -> failed: silent for 10 s  [ctl1]",
    ]);
    expect((await store.history({ limit: 2 })).map((e) => e.kind)).toEqual(["gate", "evacuation"]);
    expect(historyLines(await store.history({ kind: "alert", limit: 5 }))).toEqual([
      "2026-12-03T09:59:00Z  -  alert       resumed 2 host(s) from the history  [ctl1]",
    ]);
  });

  it("an empty history database is an error saying the engine never ran, and stays empty", async () => {
    const { database, raw } = await db.fresh();
    const e = await caught(openStore({ ...db.options(database), create: false }));
    expect(e.code).toBe("E_HA_STORE_SCHEMA");
    expect(e.message).toBe(
      `Cannot read the history database ${database} at ${db.socketPath}: it has no tables: the instance-HA engine never ran`,
    );
    const [tables] = await raw.query("SHOW TABLES");
    expect(tables).toEqual([]);

    // Once the engine made its tables, the reader opens it and finds nothing yet.
    await db.open(db.options(database));
    const reader = await db.open({ ...db.options(database), create: false });
    expect(statusLines(await readStatus(reader, [], NOW))).toEqual([
      "instance HA at 2026-12-03T10:30:00Z: 0 of 0 compute(s) in trouble",
      "the history is empty: the engine created its tables but has recorded nothing yet",
    ]);
  });

  it("a database it cannot log in to is an error naming the address and cause, without the password", async () => {
    const e = await caught(openStore({ ...db.options("hastack_ha_nosuch"), create: false }));
    expect(e.code).toBe("E_HA_STORE_CONNECT");
    expect(e.message).toContain(
      `Cannot open the history database hastack_ha_nosuch at ${db.socketPath} as hastack_ha:`,
    );
    expect(e.message).toMatch(/Unknown database|denied/);
    expect(JSON.stringify({ m: e.message, c: String(e.cause) })).not.toContain(TEST_PASSWORD);
  });
});
