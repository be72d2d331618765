/**
 * The ledger between evacuate.ts and a real MariaDB (store-test-db.ts): what `ha status` reads
 * back after an evacuation, and the claim that keeps a standby from asking Nova twice. Nova is
 * src/testing/fake-nova.ts (a real HTTP server with Nova's refusals): the lab's Nova is not
 * reachable from a unit test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeNova, type FakeServer, novaOf, startFakeNova } from "../testing/fake-nova.ts";
import { evacuateHost } from "./evacuate.ts";
import { type Ledger, storeLedger } from "./evacuation-ledger.ts";
import type { Store } from "./store.ts";
import { startTestDb, type TestDb } from "./store-test-db.ts";

let db: TestDb;
let fake: FakeNova | undefined;
beforeAll(async () => {
  db = await startTestDb();
});
afterAll(() => db?.stop());
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const FAST = { poll_ms: 20, evacuation_timeout_s: 2 };
const EPISODE = "cmp1@2026-12-05T13:00:00.000Z";

function vm(id: string): FakeServer {
  return { id, name: `vm-${id}`, host: "cmp1", vm_state: "active", task_state: null };
}

async function world(servers: FakeServer[]) {
  const services = ["cmp1", "cmp2"].map((host, i) => ({
    id: `svc-${i}`,
    host,
    status: "enabled" as const,
    disabled_reason: null,
    forced_down: false,
    alive: host !== "cmp1",
  }));
  fake = await startFakeNova({ services, servers });
  const { database } = await db.fresh();
  const open = (engine: string) => db.open(db.options(database, engine));
  return { fake, nova: await novaOf(fake), open };
}

const ledgerOf = (store: Store, warnings: string[] = []) =>
  storeLedger(store, { episode: EPISODE, host: "cmp1", warn: (l) => warnings.push(l) });
const toCmp2 = (...ids: string[]) => ids.map((vm) => ({ vm, target: "cmp2" }));
const evacuations = (fake: FakeNova) =>
  fake.log.filter((l) => l.method === "POST" && l.path.endsWith("/action")).map((l) => l.path);

describe("instance-ha/evacuation-ledger: each server's evacuation in Galera", () => {
  it("claims each server before Nova is asked, and ends with where it went, or why it was left", async () => {
    const { fake, nova, open } = await world([vm("a"), vm("b"), vm("c")]);
    const store = await open("ctl1");
    const warnings: string[] = [];
    const report = await evacuateHost({
      host: "cmp1",
      plan: {
        placements: toCmp2("a", "b"),
        unplaced: [{ vm: "c", reason: "fits on no host (needs MEMORY_MB 512)" }],
      },
      nova,
      settings: FAST,
      ledger: ledgerOf(store, warnings),
    });
    expect(report.servers.map((s) => [s.id, s.status])).toEqual([
      ["a", "evacuated"],
      ["b", "evacuated"],
      ["c", "skipped"],
    ]);
    const rows = await store.evacuations(EPISODE);
    expect(rows.map((r) => [r.serverId, r.name, r.status, r.toHost, r.attempts, r.claimedBy])).toEqual([
      // The unplaced first: it is written before any server is asked for.
      ["c", "vm-c", "unplaced", undefined, 0, "ctl1"],
      ["a", "vm-a", "done", "cmp2", 1, "ctl1"],
      ["b", "vm-b", "done", "cmp2", 1, "ctl1"],
    ]);
    expect(rows.find((r) => r.serverId === "c")?.detail).toBe(
      "no room: fits on no host (needs MEMORY_MB 512)",
    );
    expect(rows.every((r) => r.finishedAt instanceof Date)).toBe(true);
    expect(evacuations(fake)).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  it("a standby takes over a claim its dead predecessor never asked Nova about, and skips one it did", async () => {
    const { fake, nova, open } = await world([vm("a"), vm("b")]);
    const dead = await open("ctl1");
    const at = new Date();
    // ctl1 claimed both and asked Nova about b only (its row `requested`), then died; Nova's
    // rebuild of b failed back to ACTIVE on cmp1 with no task, which is where the standby finds it.
    for (const id of ["a", "b"])
      expect(
        await dead.claimEvacuation({
          episode: EPISODE,
          serverId: id,
          name: `vm-${id}`,
          fromHost: "cmp1",
          at,
        }),
      ).toBe(true);
    await dead.recordEvacuation({ episode: EPISODE, serverId: "b", status: "requested", attempts: 1 });

    const standby = await open("ctl2");
    const report = await evacuateHost({
      host: "cmp1",
      plan: { placements: toCmp2("a", "b"), unplaced: [] },
      nova,
      settings: FAST,
      ledger: ledgerOf(standby),
    });
    expect(report.servers.find((s) => s.id === "a")).toMatchObject({ status: "evacuated", to: "cmp2" });
    expect(report.servers.find((s) => s.id === "b")).toMatchObject({
      status: "skipped",
      reason: "the engine ctl1 holds its evacuation (requested)",
    });
    expect(evacuations(fake)).toEqual(["/v2.1/servers/a/action"]);
    const rows = await standby.evacuations(EPISODE);
    expect(rows.map((r) => [r.serverId, r.status, r.claimedBy])).toEqual([
      ["a", "done", "ctl2"],
      ["b", "requested", "ctl1"],
    ]);
  });

  it("asks Nova nothing for a server whose claim cannot be known, and says so", async () => {
    const { fake, nova } = await world([vm("a")]);
    const ledger: Ledger = {
      // The boundary under test is evacuate.ts's: a database that does not answer.
      claim: () => Promise.reject(new Error("Cannot claim: connect ETIMEDOUT")),
      record: () => Promise.resolve(),
    };
    const report = await evacuateHost({
      host: "cmp1",
      plan: { placements: [{ vm: "a", target: "cmp2" }], unplaced: [] },
      nova,
      settings: FAST,
      ledger,
    });
    expect(report.servers[0]).toMatchObject({
      status: "failed",
      attempts: 0,
      reason: "cannot claim it in the history, not asked: Cannot claim: connect ETIMEDOUT",
    });
    expect(evacuations(fake)).toEqual([]);
  });
});
