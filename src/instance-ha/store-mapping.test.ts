import { describe, expect, it } from "vitest";
import { HostStateSettings, initialState, next } from "./host-state.ts";
import {
  type Clocks,
  decisionEvent,
  resumedState,
  snapshotOf,
  toMono,
  toWall,
  transitionEvent,
} from "./store-mapping.ts";
import { aliveAt, signals } from "./test-world.ts";

const settings = HostStateSettings.parse({});
/** The active engine's clocks, and the standby's: another process, another monotonic origin. */
const active: Clocks = { mono: 500_000, wall: new Date("2026-12-03T10:00:00.000Z") };
const standby: Clocks = { mono: 7_000, wall: new Date("2026-12-03T10:00:30.000Z") };

describe("instance-ha/store-mapping", () => {
  it("converts the engine's monotonic times to wall-clock times and back", () => {
    expect(toWall(499_000, active)).toEqual(new Date("2026-12-03T09:59:59.000Z"));
    expect(toMono(new Date("2026-12-03T09:59:59.000Z"), active)).toBe(499_000);
    // The same wall time on the standby's clock: 31 s before its now.
    expect(toMono(new Date("2026-12-03T09:59:59.000Z"), standby)).toBe(7_000 - 31_000);
  });

  it("keeps a phase change with its reasons, an alert without one, and nothing for a quiet evaluation", () => {
    const before = initialState(0);
    const quiet = next(before, signals(aliveAt(1000)), 1000, settings);
    expect(transitionEvent("cmp1", "healthy", quiet, active)).toBeUndefined();

    const suspect = next(before, signals({ management: 0, storage: 0, power: "off" }), 3000, settings);
    expect(transitionEvent("cmp1", "healthy", suspect, active)).toEqual({
      at: active.wall,
      host: "cmp1",
      kind: "phase",
      phaseFrom: "healthy",
      phaseTo: "suspect",
      detail: "suspect: no heartbeat for 3 s on either network, power off",
      data: { condition: "dead" },
    });

    const alert = {
      state: { ...before, phase: "suspect" as const },
      reasons: ["not evacuating: x"],
      alert: "x; not evacuating",
    };
    expect(transitionEvent("cmp1", "suspect", { ...alert, reasons: [] }, active)?.detail).toBe(
      "x; not evacuating",
    );
    expect(transitionEvent("cmp1", "suspect", alert, active)).toEqual({
      at: active.wall,
      host: "cmp1",
      kind: "alert",
      detail: "not evacuating: x",
    });
  });

  it("records a gate decision with the gate that stopped it", () => {
    const at = active.wall;
    expect(decisionEvent({ host: "cmp1", act: false, gate: "valve", reason: "valve closed" }, at)).toEqual({
      at,
      host: "cmp1",
      kind: "gate",
      detail: "valve closed",
      data: { act: false, gate: "valve" },
    });
    expect(decisionEvent({ host: "cmp2", act: true, reason: "fence cmp2" }, at).data).toEqual({ act: true });
  });

  it("resumes an evacuated host on a standby: the old boot is not a recovery, a new one is", () => {
    const evacuated = {
      ...initialState(400_000),
      phase: "evacuated" as const,
      since: 490_000,
      troubleSince: 450_000,
      fencedBootId: "boot-1",
      fenceMethod: "storage" as const,
      holdDisabled: true,
      recoveredAt: 100_000,
    };
    const snapshot = snapshotOf("cmp1", evacuated, "ep-1", active);
    expect(snapshot).toEqual({
      host: "cmp1",
      phase: "evacuated",
      since: new Date("2026-12-03T09:59:50.000Z"),
      episode: "ep-1",
      fencedBootId: "boot-1",
      fenceMethod: "storage",
      holdDisabled: true,
      recoveredAt: new Date("2026-12-03T09:53:20.000Z"),
    });

    const resumed = resumedState(snapshot, standby);
    expect(resumed).toMatchObject({
      phase: "evacuated",
      since: 7_000 - 40_000,
      watchingSince: 7_000,
      troubleSince: 7_000 - 40_000,
      fencedBootId: "boot-1",
      holdDisabled: true,
      recoveredAt: 7_000 - 430_000,
    });
    // The old boot still heartbeating (a storage fence leaves it running): no recovery.
    const same = next(resumed, signals(aliveAt(8_000)), 8_000, settings);
    expect(same.state.phase).toBe("evacuated");
    const rebooted = next(
      resumed,
      signals({ ...aliveAt(8_000), agent: { bootId: "boot-2" } }),
      8_000,
      settings,
    );
    expect(rebooted.state.phase).toBe("recovering");
  });

  it("resumes a healthy host as healthy, out of trouble", () => {
    const snapshot = snapshotOf("cmp2", initialState(450_000), undefined, active);
    expect(snapshot).toEqual({
      host: "cmp2",
      phase: "healthy",
      since: new Date("2026-12-03T09:59:10.000Z"),
      holdDisabled: false,
    });
    const resumed = resumedState(snapshot, standby);
    expect(resumed.troubleSince).toBeUndefined();
    expect(resumed.phase).toBe("healthy");
  });
});
