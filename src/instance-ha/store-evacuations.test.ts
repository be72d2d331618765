/**
 * The evacuation claim against a real MariaDB (store-test-db.ts): two engines on their own
 * connections, one winner per server. Across two Galera nodes: store-galera.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "./store.ts";
import { caught, startTestDb, type TestDb } from "./store-test-db.ts";

let db: TestDb;
beforeAll(async () => {
  db = await startTestDb();
});
afterAll(() => db?.stop());

describe("the evacuation claim on a real MariaDB", () => {
  it("lets exactly one of two engines racing on their own connections claim each server's evacuation", async () => {
    const { database, raw } = await db.fresh();
    const a = await db.open(db.options(database, "ctl1"));
    const b = await db.open(db.options(database, "ctl2"));
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
    const [c, d] = [await db.open(db.options(database, "ctl3")), await db.open(db.options(database, "ctl4"))];
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
    const { database } = await db.fresh();
    const store = await db.open(db.options(database));
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
});
