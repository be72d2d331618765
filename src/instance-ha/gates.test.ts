import { describe, expect, it } from "vitest";
import {
  type ControlPlaneView,
  controlPlane,
  decideEvacuation,
  decideFences,
  GateSettings,
  troubleWave,
  valve,
} from "./gates.ts";
import { type Condition, type HostState, initialState, type Phase } from "./host-state.ts";

const settings = GateSettings.parse({});
const up: ControlPlaneView = {
  novaApi: true,
  novaScheduler: true,
  novaConductor: true,
  placement: true,
  database: true,
};

function host(phase: Phase, condition: Condition, troubleSince?: number): HostState {
  return {
    ...initialState(0),
    phase,
    condition,
    troubleSince,
    failedAt: phase === "failed" ? troubleSince : undefined,
  };
}

/** A site of `size` computes, healthy but for the ones given. */
function site(size: number, trouble: Record<string, HostState>): Map<string, HostState> {
  const states = new Map<string, HostState>();
  for (let i = 1; i <= size; i++) states.set(`cmp${i}`, initialState(0));
  for (const [name, state] of Object.entries(trouble)) states.set(name, state);
  return states;
}

const t = (hosts: string[], since = 100_000) => hosts.map((h) => ({ host: h, since }));

describe("instance-ha/gates: the valve", () => {
  it.each([
    [1, 10, true],
    [2, 10, true],
    [3, 10, false],
    [2, 4, true], // 50% is not more than 50%
    [2, 3, false], // 67%
  ])("%i of %i computes in trouble: open %s", (count, computes, open) => {
    const hosts = Array.from({ length: count }, (_, i) => `cmp${i + 1}`);

    expect(valve(t(hosts), computes, settings).open).toBe(open);
  });

  it("says why it closed", () => {
    expect(valve(t(["a", "b", "c"]), 20, settings).reason).toBe(
      "valve closed: 3 of 20 computes in trouble, begun within 60 s of one another, more than 2: a network or storage outage?",
    );
    expect(valve(t(["a", "b"]), 3, settings).reason).toBe(
      "valve closed: 2 of 3 computes in trouble, begun within 60 s of one another (67%), more than 50%: a network or storage outage?",
    );
  });

  it("counts suspects as well as failed hosts, and only trouble begun within the window of the anchor", () => {
    const states = site(10, {
      cmp1: host("failed", "dead", 100_000),
      cmp2: host("suspect", "dead", 100_500),
      cmp3: host("suspect", "management-lost", 20_000), // began 80 s before cmp1
      cmp4: host("disabled", "dead", 100_000),
      cmp5: host("suspect", "dead", 159_000), // 59 s after
    });

    expect(troubleWave(states, 100_000, settings).map((x) => x.host)).toEqual(["cmp1", "cmp2", "cmp5"]);
  });
});

describe("instance-ha/gates: the control plane", () => {
  it("is open when all is up, and names what is down", () => {
    expect(controlPlane(up)).toEqual({ open: true, reason: "control plane up" });
    expect(controlPlane({ ...up, novaScheduler: false, database: false })).toEqual({
      open: false,
      reason: "control plane down (the database, nova-scheduler): Nova could not evacuate",
    });
  });
});

describe("instance-ha/gates: decideFences", () => {
  it("fences one dead host of ten, with the reasons of the gates it passed", () => {
    const states = site(10, { cmp3: host("failed", "dead", 100_000) });

    expect(decideFences({ states, controlPlane: up, now: 101_000, settings })).toEqual([
      {
        host: "cmp3",
        act: true,
        reason:
          "fence cmp3 (valve open: 1 of 10 computes in trouble, begun within 60 s of one another; control plane up)",
      },
    ]);
  });

  it("blocks every fence when a switch takes three hosts (one failed, two still suspect)", () => {
    const states = site(10, {
      cmp1: host("failed", "dead", 100_000),
      cmp2: host("suspect", "dead", 100_400),
      cmp3: host("suspect", "dead", 100_900),
    });

    const decisions = decideFences({ states, controlPlane: up, now: 102_000, settings });

    expect(decisions).toEqual([
      {
        host: "cmp1",
        act: false,
        gate: "valve",
        reason:
          "valve closed: 3 of 10 computes in trouble, begun within 60 s of one another, more than 2: a network or storage outage?",
      },
    ]);
  });

  it("keeps the valve closed for as long as the wave's hosts stay in trouble, not only for the window", () => {
    // Both computes of a two-compute site lost power together, ten minutes ago.
    const states = site(2, {
      cmp1: host("failed", "dead", 100_000),
      cmp2: host("failed", "dead", 100_300),
    });
    const later = decideFences({ states, controlPlane: up, now: 700_000, settings });
    expect(later.map((d) => [d.host, d.act, d.gate])).toEqual([
      ["cmp1", false, "valve"],
      ["cmp2", false, "valve"],
    ]);
    // One of them comes back: the other is a host failure after all, and is fenced.
    const back = site(2, { cmp1: host("failed", "dead", 100_000) });
    expect(decideFences({ states: back, controlPlane: up, now: 700_000, settings })).toMatchObject([
      { host: "cmp1", act: true },
    ]);
  });

  it("blocks fences while the control plane is down", () => {
    const states = site(10, { cmp3: host("failed", "storage-lost", 100_000) });

    const [decision] = decideFences({
      states,
      controlPlane: { ...up, novaScheduler: false },
      now: 101_000,
      settings,
    });

    expect(decision).toMatchObject({ act: false, gate: "control-plane" });
  });

  it("starts at most fences_per_cycle fences, oldest failure first, counting fences under way", () => {
    const wide = GateSettings.parse({ valve_hosts: 10, valve_ratio: 1 });
    const states = site(10, {
      cmp5: host("failed", "dead", 100_200),
      cmp2: host("failed", "dead", 100_100),
      cmp9: host("failed", "unresponsive", 100_000),
    });

    const all = decideFences({ states, controlPlane: up, now: 101_000, settings: wide });
    states.set("cmp1", host("fencing", "dead", 99_000));
    const withOneUnderWay = decideFences({ states, controlPlane: up, now: 101_000, settings: wide });

    expect(all.map((d) => [d.host, d.act, d.gate])).toEqual([
      ["cmp9", true, undefined],
      ["cmp2", true, undefined],
      ["cmp5", false, "cycle-limit"],
    ]);
    expect(withOneUnderWay.map((d) => [d.host, d.act])).toEqual([
      ["cmp9", true],
      ["cmp2", false],
      ["cmp5", false],
    ]);
    expect(withOneUnderWay[1]?.reason).toBe("deferred: 2 fence(s) per cycle, 1 under way");
  });

  it("decides but never acts in dry run", () => {
    const states = site(10, { cmp3: host("failed", "dead", 100_000) });

    const [decision] = decideFences({
      states,
      controlPlane: up,
      now: 101_000,
      settings: { ...settings, dry_run: true },
    });

    expect(decision).toMatchObject({ act: false, gate: "dry-run" });
    expect(decision?.reason).toMatch(/^dry run: would fence cmp3 \(valve open/);
  });

  it("leaves out a failed host whose last evaluation is no longer fence-worthy", () => {
    const states = site(10, { cmp3: host("failed", "ok", 100_000) });

    expect(decideFences({ states, controlPlane: up, now: 101_000, settings })).toEqual([]);
  });
});

describe("instance-ha/gates: decideEvacuation", () => {
  it("evacuates when the control plane is up, never in dry run", () => {
    expect(decideEvacuation("cmp3", up, settings)).toEqual({
      host: "cmp3",
      act: true,
      reason: "evacuate cmp3",
    });
    expect(decideEvacuation("cmp3", { ...up, database: false }, settings)).toMatchObject({
      act: false,
      gate: "control-plane",
    });
    expect(decideEvacuation("cmp3", up, { ...settings, dry_run: true })).toMatchObject({
      act: false,
      gate: "dry-run",
    });
  });
});
