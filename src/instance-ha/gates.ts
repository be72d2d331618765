/**
 * @module
 * The gates between "this host failed" and "fence it": each answers with the reason the engine
 * logs and keeps in the history. Pure functions of what the engine knows this cycle.
 *
 * Order: the valve (is this a host failure at all, or an outage of a switch or of the storage
 * that makes many hosts look failed?), the control plane (could Nova evacuate if we fenced?), the
 * per-cycle limit, then dry run. A fence without an evacuation to follow only adds downtime, so
 * the control-plane gate stands before the fence, not only before the evacuation.
 */
import { z } from "zod";
import { fenceWorthy, type HostState } from "./host-state.ts";

export const GateSettings = z.strictObject({
  valve_hosts: z
    .int()
    .min(0)
    .default(2)
    .describe(
      "more hosts than this in trouble, begun within the window of one another, is an outage, not host failures: block",
    ),
  valve_ratio: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe(
      "more than this share of the computes in trouble, begun within the window of one another: block",
    ),
  valve_window_s: z
    .int()
    .min(1)
    .default(60)
    .describe("troubles that began this close to one another are one wave for the valve"),
  fences_per_cycle: z.int().min(1).default(2).describe("fences started in one evaluation at most"),
  dry_run: z
    .boolean()
    .default(false)
    .describe("decide and report, never fence or evacuate (UMHA's really_evacuate = false)"),
});
export type GateSettings = z.output<typeof GateSettings>;

/** The engine adds its own two: no quorum, and a fence that failed too recently (engine.ts). */
export type GateName = "valve" | "control-plane" | "cycle-limit" | "dry-run" | "quorum" | "backoff";

export interface GateVerdict {
  open: boolean;
  reason: string;
}

/** What the engine sees of the control plane (its own probes, not Nova's word about itself). */
export interface ControlPlaneView {
  novaApi: boolean;
  novaScheduler: boolean;
  novaConductor: boolean;
  placement: boolean;
  database: boolean;
}

/** A host in trouble, and since when (monotonic ms): what the valve counts. */
export interface Trouble {
  host: string;
  since: number;
}

/**
 * The hosts in trouble now whose trouble began within `valve_window_s` of `anchor` (the newest
 * failure the gates are asked about), before or after it: one wave of failures. Measured from
 * the failures themselves, not from now, so the valve stays closed for as long as the wave's
 * hosts stay in trouble: measured from now, it opened once the window had passed, and the engine
 * then fenced the hosts of a mass power loss one by one (lab, 2026-12-05, compute-mass-poweroff:
 * cmp1 fenced 61.4 s after both computes lost power).
 */
export function troubleWave(
  states: ReadonlyMap<string, HostState>,
  anchor: number,
  settings: GateSettings,
): Trouble[] {
  const trouble: Trouble[] = [];
  for (const [host, state] of states) {
    if (state.phase === "healthy" || state.phase === "disabled" || state.troubleSince === undefined) continue;
    if (Math.abs(anchor - state.troubleSince) <= settings.valve_window_s * 1000)
      trouble.push({ host, since: state.troubleSince });
  }
  return trouble;
}

/**
 * Counts every host of the wave, suspects included: a switch that dies takes its hosts' last
 * heartbeats with it up to a second apart, so they reach `failed` in different evaluations.
 * Counting only failed hosts would let the first one through.
 */
export function valve(trouble: readonly Trouble[], computes: number, settings: GateSettings): GateVerdict {
  const count = new Set(trouble.map((t) => t.host)).size;
  const ratio = computes === 0 ? 0 : count / computes;
  const what = `${count} of ${computes} computes in trouble, begun within ${settings.valve_window_s} s of one another`;
  if (count > settings.valve_hosts) {
    return {
      open: false,
      reason: `valve closed: ${what}, more than ${settings.valve_hosts}: a network or storage outage?`,
    };
  }
  if (ratio > settings.valve_ratio) {
    const percent = (r: number) => `${Math.round(r * 100)}%`;
    return {
      open: false,
      reason: `valve closed: ${what} (${percent(ratio)}), more than ${percent(settings.valve_ratio)}: a network or storage outage?`,
    };
  }
  return { open: true, reason: `valve open: ${what}` };
}

export function controlPlane(view: ControlPlaneView): GateVerdict {
  const labels: [keyof ControlPlaneView, string][] = [
    ["database", "the database"],
    ["novaApi", "nova-api"],
    ["novaScheduler", "nova-scheduler"],
    ["novaConductor", "nova-conductor"],
    ["placement", "placement"],
  ];
  const down = labels.filter(([key]) => !view[key]).map(([, label]) => label);
  if (down.length > 0) {
    return { open: false, reason: `control plane down (${down.join(", ")}): Nova could not evacuate` };
  }
  return { open: true, reason: "control plane up" };
}

/** What to do about one host: act (fence, or evacuate) or not, and why. */
export interface Decision {
  host: string;
  /** True only when the engine is to act now. */
  act: boolean;
  /** The gate that stopped it; none when it goes ahead. */
  gate?: GateName;
  reason: string;
}

export interface FenceInput {
  states: ReadonlyMap<string, HostState>;
  controlPlane: ControlPlaneView;
  now: number;
  settings: GateSettings;
}

/**
 * One decision per fence-worthy host, oldest failure first (then by name, so a replay of the
 * same input decides the same way). Fences still under way count against the per-cycle limit, so
 * it bounds how many hosts are being fenced at once, not only how many start in one second.
 */
export function decideFences(input: FenceInput): Decision[] {
  const { states, now, settings } = input;
  const candidates = [...states]
    .filter(([, s]) => fenceWorthy(s))
    .sort(([a, x], [b, y]) => (x.failedAt ?? 0) - (y.failedAt ?? 0) || a.localeCompare(b))
    .map(([host]) => host);
  if (candidates.length === 0) return [];

  const newest = Math.max(...candidates.map((h) => states.get(h)?.troubleSince ?? now));
  const theValve = valve(troubleWave(states, newest, settings), states.size, settings);
  if (!theValve.open)
    return candidates.map((host) => ({ host, act: false, gate: "valve", reason: theValve.reason }));
  const plane = controlPlane(input.controlPlane);
  if (!plane.open) {
    return candidates.map((host) => ({ host, act: false, gate: "control-plane", reason: plane.reason }));
  }

  const inFlight = [...states.values()].filter((s) => s.phase === "fencing").length;
  let room = Math.max(0, settings.fences_per_cycle - inFlight);
  return candidates.map((host): Decision => {
    if (room === 0) {
      const reason = `deferred: ${settings.fences_per_cycle} fence(s) per cycle, ${inFlight} under way`;
      return { host, act: false, gate: "cycle-limit", reason };
    }
    room--;
    const why = `${theValve.reason}; ${plane.reason}`;
    if (settings.dry_run)
      return { host, act: false, gate: "dry-run", reason: `dry run: would fence ${host} (${why})` };
    return { host, act: true, reason: `fence ${host} (${why})` };
  });
}

/** Before evacuating a fenced host: the control plane must be up, and dry run never evacuates. */
export function decideEvacuation(host: string, view: ControlPlaneView, settings: GateSettings): Decision {
  const plane = controlPlane(view);
  if (!plane.open)
    return { host, act: false, gate: "control-plane", reason: `not evacuating ${host}: ${plane.reason}` };
  if (settings.dry_run)
    return { host, act: false, gate: "dry-run", reason: `dry run: would evacuate ${host}` };
  return { host, act: true, reason: `evacuate ${host}` };
}
