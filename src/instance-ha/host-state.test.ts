import { describe, expect, it } from "vitest";
import {
  type ActionEvent,
  fenceWorthy,
  type HostState,
  HostStateSettings,
  initialState,
  next,
  type Transition,
} from "./host-state.ts";
import { aliveAt, signals, type World } from "./test-world.ts";

const settings = HostStateSettings.parse({});

/** Evaluates once a second from `from` to `to` (ms, inclusive); the world may depend on the time. */
function run(state: HostState, from: number, to: number, world: (now: number) => World) {
  const log: (Transition & { now: number })[] = [];
  for (let now = from; now <= to; now += 1000) {
    const t = next(state, signals(world(now)), now, settings);
    log.push({ ...t, now });
    state = t.state;
  }
  return { state, log, changes: log.filter((t) => t.reasons.length > 0) };
}

describe("instance-ha/host-state: detection", () => {
  it("fails a powered-off host after 3 bad evaluations: 5 s after its last heartbeat at the defaults", () => {
    // Heartbeats every second until t=10 s, then nothing; the BMC says off.
    const world = (now: number): World =>
      now <= 10_000 ? aliveAt(now) : { management: 10_000, storage: 10_000, power: "off" };

    const { state, changes } = run(initialState(0), 1000, 20_000, world);

    expect(changes.map((t) => [t.now, t.state.phase, t.reasons[0]])).toEqual([
      [13_000, "suspect", "suspect: no heartbeat for 3 s on either network, power off"],
      [15_000, "failed", "failed after 3 bad evaluations: no heartbeat for 5 s on either network, power off"],
    ]);
    expect(state.troubleSince).toBe(13_000);
    expect(fenceWorthy(state)).toBe(true);
  });

  it("never fails a flapping host (bad evaluations must come in a row)", () => {
    const world = (now: number): World => (now % 2000 === 0 ? aliveAt(now) : { management: 0, storage: 0 });

    const { log } = run(initialState(0), 1000, 60_000, world);

    expect(log.some((t) => t.state.phase === "failed")).toBe(false);
  });

  it("takes 5 good evaluations in a row for a suspect host to be healthy again", () => {
    const suspect = run(initialState(0), 1000, 3000, () => ({ management: 0, storage: 0 })).state;
    expect(suspect.phase).toBe("suspect");

    const { changes } = run(suspect, 4000, 10_000, aliveAt);

    expect(changes.map((t) => [t.now, t.state.phase])).toEqual([[8000, "healthy"]]);
    expect(changes[0]?.state.troubleSince).toBeUndefined();
  });

  it("recovers a failed host that answers again before it is fenced, after 5 good evaluations", () => {
    const failed = run(initialState(0), 1000, 5000, () => ({ management: 0, storage: 0 })).state;
    expect(failed.phase).toBe("failed");

    const { changes, log } = run(failed, 6000, 12_000, aliveAt);

    expect(fenceWorthy(log[0]?.state as HostState)).toBe(false);
    expect(changes.map((t) => [t.now, t.state.phase, t.reasons[0]])).toEqual([
      [10_000, "healthy", "recovered before it was fenced (5 good evaluations)"],
    ]);
  });

  it("never evacuates a host that lost only its management network: one alert, no failure", () => {
    const world = (now: number): World => ({ management: 1000, storage: now, power: "on" });

    const { log } = run(initialState(0), 1000, 120_000, world);

    expect(log.some((t) => t.state.phase === "failed")).toBe(false);
    expect(log.at(-1)?.state.phase).toBe("suspect");
    const alerts = log.filter((t) => t.alert);
    expect(alerts.map((t) => [t.now, t.alert])).toEqual([
      [
        6000,
        "management network silent, storage alive: the VMs may still write; not evacuating, the VMs stay where they are",
      ],
    ]);
  });

  it("restarts the count when the kind of trouble changes (management lost, then storage lost too)", () => {
    // Management silent from t=1; storage silent too from t=6 (last storage heartbeat at t=3).
    const world = (now: number): World => ({ management: 1000, storage: Math.min(now, 3000), power: "on" });

    const { changes } = run(initialState(0), 1000, 12_000, world);

    expect(changes.map((t) => [t.now, t.state.phase, t.state.condition])).toEqual([
      [4000, "suspect", "management-lost"],
      // Both silent from t=6: without the restart this would have failed at t=6.
      [8000, "failed", "unresponsive"],
    ]);
  });

  it("sends a failed host whose trouble turned into a management-only loss back to suspect", () => {
    const failed = run(initialState(0), 1000, 6000, (now) => ({ management: now, storage: 0 })).state;
    expect([failed.phase, failed.condition]).toEqual(["failed", "storage-lost"]);

    const t = next(failed, signals({ management: 5000, storage: 9000 }), 9000, settings);

    expect([t.state.phase, t.reasons]).toEqual([
      "suspect",
      ["no longer fence-worthy: management network silent, storage alive: the VMs may still write"],
    ]);
  });
});

describe("instance-ha/host-state: fence, evacuate, come back", () => {
  /** A host powered off at t=10 s and failed by t=15 s, its last boot boot-1. */
  function failedHost(): HostState {
    const world = (now: number): World =>
      now <= 10_000 ? aliveAt(now) : { management: 10_000, storage: 10_000, power: "off" };
    return run(initialState(0), 1000, 15_000, world).state;
  }
  const dead: World = { management: 10_000, storage: 10_000, power: "off" };
  const step = (state: HostState, now: number, world: World) => next(state, signals(world), now, settings);

  it("goes failed -> fencing -> fenced -> evacuating -> evacuated on the engine's events, and back on a new boot", () => {
    let s = failedHost();
    expect(s.fencedBootId).toBe("boot-1");
    const phases: string[] = [];
    for (const [now, events] of [
      [16_000, [{ kind: "fence-started" }]],
      [17_000, []],
      [18_000, [{ kind: "fence-confirmed", method: "power" }]],
      [19_000, [{ kind: "evacuation-started" }]],
      [25_000, [{ kind: "evacuation-finished", failed: 0 }]],
    ] as [number, ActionEvent[]][]) {
      s = step(s, now, { ...dead, events }).state;
      phases.push(s.phase);
    }
    expect(phases).toEqual(["fencing", "fencing", "fenced", "evacuating", "evacuated"]);
    expect(s.fenceMethod).toBe("power");

    // Powered on again: a new boot id, heard on both networks.
    const back = run(s, 100_000, 110_000, (now) => ({ ...aliveAt(now), agent: { bootId: "boot-2" } }));

    expect(back.changes.map((t) => [t.now, t.state.phase, t.reasons[0]])).toEqual([
      [100_000, "recovering", "recovering: heard again after a reboot (boot boot-2)"],
      [104_000, "healthy", "healthy again after 5 good evaluations"],
    ]);
    expect(back.state.recoveredAt).toBe(104_000);
  });

  it("goes back to failed when the fence fails, and says that nothing more is done", () => {
    const fencing = step(failedHost(), 16_000, { ...dead, events: [{ kind: "fence-started" }] }).state;

    const t = step(fencing, 46_000, { ...dead, events: [{ kind: "fence-failed", detail: "BMC timed out" }] });

    expect([t.state.phase, t.reasons]).toEqual([
      "failed",
      ["fence failed: BMC timed out; nothing more until a fence is confirmed"],
    ]);
  });

  it("keeps a storage-fenced host evacuated while it still runs its old boot, however healthy it looks", () => {
    // Storage lost, management alive: the BMC is dead, so the engine blocklists it in Ceph.
    const lost = (now: number): World => ({ management: now, storage: 0, power: "unknown" });
    let s = run(initialState(0), 1000, 5000, lost).state;
    expect([s.phase, s.condition]).toEqual(["failed", "storage-lost"]);
    s = step(s, 6000, { ...lost(6000), events: [{ kind: "fence-started" }] }).state;
    s = step(s, 7000, { ...lost(7000), events: [{ kind: "fence-confirmed", method: "storage" }] }).state;
    s = step(s, 8000, { ...lost(8000), events: [{ kind: "evacuation-started" }] }).state;
    s = step(s, 9000, { ...lost(9000), events: [{ kind: "evacuation-finished", failed: 1 }] }).state;
    expect([s.phase, s.fenceMethod]).toEqual(["evacuated", "storage"]);

    const sameBoot = run(s, 10_000, 60_000, aliveAt);
    expect(sameBoot.state.phase).toBe("evacuated");

    const rebooted = run(sameBoot.state, 61_000, 66_000, (now) => ({
      ...aliveAt(now),
      agent: { bootId: "boot-2" },
    }));
    expect(rebooted.state.phase).toBe("healthy");
  });

  it("keeps a host that fails again within the window disabled when it comes back, until the operator enables it", () => {
    let s = failedHost();
    s = step(s, 16_000, { ...dead, events: [{ kind: "fence-started" }] }).state;
    s = step(s, 17_000, { ...dead, events: [{ kind: "fence-confirmed", method: "power" }] }).state;
    s = step(s, 18_000, { ...dead, events: [{ kind: "evacuation-started" }] }).state;
    s = step(s, 19_000, { ...dead, events: [{ kind: "evacuation-finished", failed: 0 }] }).state;
    s = run(s, 100_000, 105_000, (now) => ({ ...aliveAt(now), agent: { bootId: "boot-2" } })).state;
    expect([s.phase, s.recoveredAt]).toEqual(["healthy", 104_000]);

    // Ten minutes later it dies again.
    const again = run(s, 700_000, 705_000, () => ({ management: 699_000, storage: 699_000, power: "off" }));
    expect(again.changes.at(-1)?.reasons).toEqual([
      "failed after 3 bad evaluations: no heartbeat for 5 s on either network, power off",
      "failed again 600 s after it recovered: it will stay disabled when it is back",
    ]);
    s = again.state;
    s = step(s, 706_000, { ...dead, events: [{ kind: "fence-started" }] }).state;
    s = step(s, 707_000, { ...dead, events: [{ kind: "fence-confirmed", method: "power" }] }).state;
    s = step(s, 708_000, { ...dead, events: [{ kind: "evacuation-started" }] }).state;
    s = step(s, 709_000, { ...dead, events: [{ kind: "evacuation-finished", failed: 0 }] }).state;
    const back = run(s, 800_000, 810_000, (now) => ({ ...aliveAt(now), agent: { bootId: "boot-3" } }));

    expect(back.state.phase).toBe("disabled");
    expect(back.changes.at(-1)?.reasons).toEqual([
      "back, but stays disabled: it failed again soon after it recovered",
    ]);
    const enabled = step(back.state, 811_000, { ...aliveAt(811_000), events: [{ kind: "operator-enable" }] });
    expect([enabled.state.phase, enabled.state.holdDisabled]).toEqual(["healthy", false]);
  });

  it("ignores an operator's disable in the middle of a fence, and applies it otherwise", () => {
    const fencing = step(failedHost(), 16_000, { ...dead, events: [{ kind: "fence-started" }] }).state;

    expect(step(fencing, 17_000, { ...dead, events: [{ kind: "operator-disable" }] }).state.phase).toBe(
      "fencing",
    );
    const healthy = initialState(0);
    expect(
      step(healthy, 1000, { ...aliveAt(1000), events: [{ kind: "operator-disable" }] }).state.phase,
    ).toBe("disabled");
  });

  it("leaves every recovered host disabled with leave_disabled", () => {
    const leave = HostStateSettings.parse({ leave_disabled: true });
    let s: HostState = { ...failedHost(), phase: "evacuated" };
    for (let now = 100_000; now <= 105_000; now += 1000) {
      s = next(s, signals({ ...aliveAt(now), agent: { bootId: "boot-2" } }), now, leave).state;
    }
    expect(s.phase).toBe("disabled");
  });
});
