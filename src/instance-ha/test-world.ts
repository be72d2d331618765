/**
 * @module
 * For tests: a compute's world in a few numbers (when each network last heard it, its power, what
 * its agent says), turned into the signals the state machine reads.
 */
import type { Heartbeat } from "./heartbeat.ts";
import type { ActionEvent, PowerState, Signals } from "./signals.ts";

export function heartbeat(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    site: "lab",
    host: "cmp1",
    network: "management",
    epoch: 1,
    seq: 1,
    sentAt: 0,
    bootId: "boot-1",
    novaCompute: true,
    libvirt: true,
    storageReachable: true,
    vms: [],
    ...overrides,
  };
}

export interface World {
  /** When the last heartbeat came over each network (undefined: never). */
  management?: number;
  storage?: number;
  power?: PowerState;
  agent?: Partial<Heartbeat>;
  events?: ActionEvent[];
}

export function signals(w: World): Signals {
  const seen = (at: number | undefined) =>
    at === undefined ? undefined : { at, heartbeat: heartbeat(w.agent) };
  return {
    management: seen(w.management),
    storage: seen(w.storage),
    power: w.power ?? "unknown",
    events: w.events,
  };
}

/** Heard on both networks just now, power on. */
export function aliveAt(now: number): World {
  return { management: now, storage: now, power: "on" };
}
