import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../store.ts";
import { fromHistory, verdictOf } from "./report.ts";

const off = new Date("2026-12-03T20:00:00.000Z");
const at = (s: number) => new Date(off.getTime() + s * 1000);
const event = (s: number, e: Partial<StoredEvent>): StoredEvent => ({
  id: s,
  engine: "ctl1",
  at: at(s),
  host: "cmp1",
  kind: "phase",
  detail: "",
  ...e,
});

describe("the compute-poweroff drill's report", () => {
  const events = [
    event(1.2, { phaseFrom: "healthy", phaseTo: "suspect", detail: "silent" }),
    event(4.3, { phaseFrom: "suspect", phaseTo: "failed", detail: "both networks silent, power off" }),
    event(4.4, { kind: "fence", detail: "fencing cmp1" }),
    event(5.1, { kind: "fence", detail: "fenced by power", data: { ok: true, method: "power", ms: 700 } }),
  ];

  it("reads detection and the confirmed fence from the engine's history, in seconds after the power-off", () => {
    const h = fromHistory(off, events);
    expect(h).toMatchObject({ detectedS: 4.3, fencedS: 5.1, fenceMethod: "power" });
    expect(h.lines[1]).toBe("   4.3 s  engine phase -> failed: both networks silent, power off");
  });

  it("passes only within budget, misses it when slow, and fails on any problem whatever the speed", () => {
    const base = {
      drill: "compute-poweroff" as const,
      expectEvacuation: true,
      host: "cmp1",
      vms: [],
      offAt: off.toISOString(),
      timeline: [],
    };
    expect(verdictOf({ ...base, detectedS: 4.3, allActiveS: 29, problems: [] })).toBe("passed");
    expect(verdictOf({ ...base, detectedS: 5.5, allActiveS: 29, problems: [] })).toBe("missed-budget");
    expect(verdictOf({ ...base, detectedS: 4.3, allActiveS: 31, problems: [] })).toBe("missed-budget");
    expect(verdictOf({ ...base, detectedS: 4.3, problems: [] })).toBe("missed-budget");
    expect(verdictOf({ ...base, detectedS: 1, allActiveS: 2, problems: ["a VM ran twice"] })).toBe("failed");
  });

  it("a fault that must not move VMs: held by the engine's 'not evacuating' alert or its valve, passed or failed, no budget", () => {
    const h = fromHistory(off, [
      event(1.1, { phaseFrom: "healthy", phaseTo: "suspect", detail: "suspect: management network silent" }),
      event(4.2, { kind: "alert", detail: "not evacuating: management network silent, storage alive" }),
    ]);
    expect(h.heldS).toBe(4.2);
    expect(h.detectedS).toBeUndefined();
    const valve = fromHistory(off, [
      event(4.1, { phaseFrom: "suspect", phaseTo: "failed", detail: "failed" }),
      event(4.1, { kind: "gate", detail: "valve closed: 2 of 2", data: { act: false, gate: "valve" } }),
    ]);
    expect(valve).toMatchObject({ detectedS: 4.1, heldS: 4.1 });
    const base = {
      drill: "compute-management-cut" as const,
      host: "cmp1",
      expectEvacuation: false,
      vms: [],
      offAt: off.toISOString(),
      timeline: [],
    };
    expect(verdictOf({ ...base, detectedS: 60, problems: [] })).toBe("passed");
    expect(verdictOf({ ...base, problems: [] })).toBe("failed");
    expect(verdictOf({ ...base, detectedS: 4.2, problems: ["the engine acted on cmp1"] })).toBe("failed");
  });
});
