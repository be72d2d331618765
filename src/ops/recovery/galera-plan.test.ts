import { afterAll, describe, expect, it } from "vitest";
import {
  fixture,
  gone,
  grastate,
  HISTORY,
  notSentences,
  OFF,
  OTHER,
  planner,
  saved3,
  synced,
  waiting,
  wsrep,
} from "./fixtures/galera-facts.ts";
import type { GaleraNode } from "./galera-facts.ts";
import { parseGrastate, parseGvwstate, parseRecoveredPosition } from "./galera-state.ts";

const { plan, plans } = planner();

describe("a Primary Component runs", () => {
  it("is healthy when every node is Synced in it", () => {
    const p = plan([synced("ctl1"), synced("ctl2"), synced("ctl3")]);

    expect(p.kind).toBe("healthy");
    expect(p.reasons).toEqual(["A Primary Component runs on ctl1, ctl2 and ctl3."]);
  });

  it("has nothing to do for a controller that is off: it rejoins by itself", () => {
    const p = plan([synced("ctl1"), synced("ctl2"), gone("ctl3")], { ctl3: OFF });

    expect(p.kind).toBe("healthy");
    expect(p.reasons).toContain(
      "ctl3 is unreachable (powered off (BMC)): it rejoins by itself when it is back.",
    );
  });

  it("starts a reachable node whose MariaDB is stopped, and restarts one cut off from the Primary", () => {
    const cutOff: GaleraNode = {
      host: "ctl3",
      state: "running",
      wsrep: wsrep("non-Primary", "Initialized", 12),
    };

    const stopped = plan([
      synced("ctl1"),
      synced("ctl2"),
      { host: "ctl3", state: "stopped", grastate: grastate(18) },
    ]);
    const partitioned = plan([synced("ctl1"), synced("ctl2"), cutOff]);

    expect(stopped).toMatchObject({
      kind: "join",
      primary: ["ctl1", "ctl2"],
      join: [{ host: "ctl3", how: "start" }],
    });
    expect(stopped.reasons).toContain("ctl3 is out of it: started, it joins by IST or SST.");
    expect(partitioned).toMatchObject({ kind: "join", join: [{ host: "ctl3", how: "restart" }] });
  });

  it("waits for a node that is joining (no SQL during its SST, or Joined)", () => {
    const sst = plan([synced("ctl1"), synced("ctl2"), { host: "ctl3", state: "running" }]);
    const joined = plan([
      synced("ctl1"),
      synced("ctl2"),
      { host: "ctl3", state: "running", wsrep: wsrep("Primary", "Joined", 20) },
    ]);

    expect(sst).toMatchObject({ kind: "wait", reasons: expect.arrayContaining(["ctl3 is joining."]) });
    expect(joined.kind).toBe("wait");
  });

  it("refuses two Primary Components of different histories", () => {
    const other: GaleraNode = { host: "ctl3", state: "running", wsrep: wsrep("Primary", "Synced", 3, OTHER) };

    const p = plan([synced("ctl1"), synced("ctl2"), other]);

    expect(p.kind).toBe("refuse");
    expect(p.reasons).toEqual([
      "Two Primary Components run at once: ctl1 and ctl2 (history 61b2fa6a) and ctl3 (history 777e1979). These are two clusters with different data; choose the one to keep by hand.",
    ]);
  });
  it("refuses two Primary Components of one history that do not see each other (a split)", () => {
    const alone = { ...synced("ctl3"), wsrep: { ...wsrep("Primary", "Synced", 25), clusterSize: 1 } };
    const pair = (host: string) => ({
      ...synced(host),
      wsrep: { ...wsrep("Primary", "Synced", 21), clusterSize: 2 },
    });

    const p = plan([pair("ctl1"), pair("ctl2"), alone]);

    expect(p.kind).toBe("refuse");
    expect(p.reasons).toEqual([
      "ctl1, ctl2 and ctl3 are in Primary Components that do not see each other (cluster sizes 2, 2, 1): the cluster is split and both sides take writes. Choose the side to keep by hand.",
    ]);
  });
});

describe("no Primary Component: wait for the last one", () => {
  it("waits when all three members of the last Primary Component are back (all power-cut, all back)", () => {
    const p = plan([waiting("ctl1", 9), waiting("ctl2", 9), waiting("ctl3", 9)]);

    expect(p).toEqual({
      kind: "wait",
      nodes: expect.any(Array),
      reasons: [
        "No Primary Component runs. ctl1, ctl2 and ctl3 run and wait for the last one (view 3, 3 members).",
        "Every member is back: Galera restores the Primary Component by itself.",
      ],
    });
  });

  it("waits for a missing member whose BMC says on (booting), and says what to do if it never comes", () => {
    const p = plan([waiting("ctl1", 9), waiting("ctl2", 9), gone("ctl3")], {
      ctl3: { power: "on", fenced: false },
    });

    expect(p.kind).toBe("wait");
    expect(p.reasons).toEqual([
      "No Primary Component runs. ctl1 and ctl2 run and wait for the last one (view 3, 3 members, 1 of them not reachable).",
      "ctl3 is unreachable but powered on (BMC): probably booting. Galera restores the Primary Component by itself once every member is back.",
      "If ctl3 does not come back, power it off through the BMC and run recover again.",
    ]);
  });

  it("does not wait for members that are stopped: nothing would start them", () => {
    const ctl2: GaleraNode = {
      host: "ctl2",
      state: "stopped",
      grastate: grastate(-1),
      gvwstate: saved3.ctl2,
      recovered: { uuid: HISTORY, seqno: 9 },
    };

    const p = plan([waiting("ctl1", 9), ctl2, waiting("ctl3", 9)]);

    expect(p.kind).toBe("bootstrap");
  });
});

describe("no Primary Component: bootstrap from the most advanced node", () => {
  it("bootstraps a survivor in place when the missing controller is off (the issue's power cut, two back)", () => {
    const p = plan([waiting("ctl1", 9), waiting("ctl2", 9), gone("ctl3")], { ctl3: OFF });

    expect(p).toMatchObject({
      kind: "bootstrap",
      from: "ctl1",
      position: { uuid: HISTORY, seqno: 9 },
      method: "pc-bootstrap",
      join: [{ host: "ctl2", how: "automatic" }],
    });
    expect(p.reasons).toEqual([
      "No Primary Component runs. ctl1 holds the highest committed seqno, 9 (history 61b2fa6a, from wsrep status).",
      "ctl2 is at the same seqno: every one of them holds every commit.",
      "ctl3 is confirmed off (powered off (BMC)): it cannot hold a newer Primary Component; it rejoins by itself when powered on.",
      "Then ctl2 joins, most advanced first (IST when the donor's gcache still holds the gap, else SST).",
    ]);
  });

  it("restarts a node that left the group protocol (Disconnected) instead of pc.bootstrap, even when ahead", () => {
    // The lab, 2026-12-03: a bootstrapped node whose EVS gave up closed its gcomm backend and
    // answered SQL as Disconnected; pc.bootstrap needs a live group backend.
    const out: GaleraNode = {
      host: "ctl1",
      state: "running",
      wsrep: wsrep("Disconnected", "Initialized", 11),
      grastate: grastate(-1),
    };
    const p = plan([out, waiting("ctl2", 9), gone("ctl3")], { ctl3: OFF });

    expect(p).toMatchObject({
      kind: "bootstrap",
      from: "ctl1",
      method: "new-cluster",
      join: [{ host: "ctl2", how: "restart" }],
    });
  });

  it("takes a fence as proof when the BMC no longer answers", () => {
    const p = plan([waiting("ctl1", 9), waiting("ctl2", 9), gone("ctl3")], {
      ctl3: { power: "unknown", fenced: true },
    });

    expect(p).toMatchObject({ kind: "bootstrap", from: "ctl1" });
  });

  it("bootstraps the node InnoDB says is ahead, from the captured files (killed at 9 beats a clean stop at 6)", () => {
    const killed = (host: "ctl1" | "ctl2"): GaleraNode => ({
      host,
      state: "stopped",
      grastate: parseGrastate(host, fixture(`grastate-${host}-killed.dat`)),
      gvwstate: host === "ctl1" ? parseGvwstate(host, fixture("gvwstate-ctl1-killed.dat")) : undefined,
      recovered: parseRecoveredPosition(host, fixture(`wsrep-recover-${host}-killed.log`)),
    });
    const ctl3: GaleraNode = {
      host: "ctl3",
      state: "stopped",
      grastate: parseGrastate("ctl3", fixture("grastate-ctl3-clean-stop.dat")),
    };

    const p = plan([ctl3, killed("ctl2"), killed("ctl1")]);

    expect(p).toMatchObject({
      kind: "bootstrap",
      from: "ctl2",
      position: { uuid: HISTORY, seqno: 9 },
      method: "new-cluster",
      join: [
        { host: "ctl1", how: "start" },
        { host: "ctl3", how: "start" },
      ],
    });
    expect(p.reasons).toContain(
      "ctl2 did not stop cleanly (safe_to_bootstrap: 0): it is marked safe for this bootstrap only.",
    );
    expect(p.nodes.find((n) => n.host === "ctl3")?.position).toEqual({
      kind: "known",
      position: { uuid: HISTORY, seqno: 6 },
      source: "grastate.dat",
    });
  });

  it("picks the highest seqno wherever it is, not the first controller", () => {
    const p = plan([
      { host: "ctl1", state: "stopped", grastate: grastate(10) },
      { host: "ctl2", state: "stopped", grastate: grastate(11) },
      { host: "ctl3", state: "stopped", grastate: grastate(-1), recovered: { uuid: HISTORY, seqno: 12 } },
    ]);

    expect(p).toMatchObject({ kind: "bootstrap", from: "ctl3", join: [{ host: "ctl2" }, { host: "ctl1" }] });
  });

  it("prefers the node Galera marked safe among equals, and a running one over both", () => {
    const safe = plan([
      { host: "ctl1", state: "stopped", grastate: grastate(15) },
      {
        host: "ctl2",
        state: "stopped",
        grastate: parseGrastate("ctl2", fixture("grastate-ctl1-last-clean-stop.dat")),
      },
    ]);
    const running = plan([
      { host: "ctl1", state: "stopped", grastate: grastate(15, true) },
      { host: "ctl2", state: "running", wsrep: wsrep("non-Primary", "Initialized", 15) },
    ]);

    expect(safe).toMatchObject({ kind: "bootstrap", from: "ctl2", method: "new-cluster" });
    expect(safe.reasons.join(" ")).not.toContain("marked safe for this bootstrap only");
    expect(running).toMatchObject({
      kind: "bootstrap",
      from: "ctl2",
      method: "pc-bootstrap",
      join: [{ host: "ctl1", how: "start" }],
    });
  });

  it("lets a node without history join last, by SST", () => {
    const fresh = parseRecoveredPosition("ctl3", fixture("wsrep-recover-never-joined.log"));

    const p = plan([
      { host: "ctl3", state: "stopped", recovered: fresh },
      { host: "ctl1", state: "stopped", grastate: grastate(7) },
      { host: "ctl2", state: "stopped", grastate: grastate(5) },
    ]);

    expect(p).toMatchObject({
      kind: "bootstrap",
      from: "ctl1",
      join: [{ host: "ctl2" }, { host: "ctl3", how: "start" }],
    });
    expect(p.nodes[0]?.position).toEqual({ kind: "empty", source: "--wsrep-recover" });
  });
});

afterAll(() => {
  expect(plans.flatMap((p) => notSentences(p.reasons))).toEqual([]);
});
