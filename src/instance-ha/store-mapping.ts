/**
 * @module
 * Between the engine's own shapes and the store's: a transition or a gate decision as a history
 * entry, a host's state as the snapshot a standby resumes from, and back.
 *
 * The engine's times are its process's monotonic clock (ms); another engine's monotonic clock
 * means nothing here, so the store keeps wall-clock times and each side converts with a pair of
 * readings of both clocks taken at the same moment.
 */
import type { Decision } from "./gates.ts";
import type { HostState, Phase, Transition } from "./host-state.ts";
import type { HaEvent, HostSnapshot } from "./store-rows.ts";

/** Both clocks read at one moment: `mono` as the engine's `now`, `wall` as Date. */
export interface Clocks {
  mono: number;
  wall: Date;
}

export function toWall(mono: number, clocks: Clocks): Date {
  return new Date(clocks.wall.getTime() - (clocks.mono - mono));
}

export function toMono(wall: Date, clocks: Clocks): number {
  return clocks.mono - (clocks.wall.getTime() - wall.getTime());
}

/** A transition worth keeping: a phase change (kind "phase") or a reason without one (an alert). */
export function transitionEvent(
  host: string,
  before: Phase,
  t: Transition,
  clocks: Clocks,
): HaEvent | undefined {
  const after = t.state.phase;
  if (after === before && t.reasons.length === 0 && t.alert === undefined) return undefined;
  // An alert's own words repeat its reason ("x; not evacuating, ..." beside "not evacuating: x"):
  // the history keeps the reason, and the alert's words only when there is no reason.
  const detail = t.reasons.length > 0 ? t.reasons.join("; ") : (t.alert ?? "");
  if (after === before) return { at: clocks.wall, host, kind: "alert", detail };
  return {
    at: clocks.wall,
    host,
    kind: "phase",
    phaseFrom: before,
    phaseTo: after,
    detail,
    data: { condition: t.state.condition },
  };
}

/** A gate's verdict on a host (act, or the gate that stopped it), in the words the engine logs. */
export function decisionEvent(d: Decision, at: Date): HaEvent {
  return {
    at,
    host: d.host,
    kind: "gate",
    detail: d.reason,
    data: d.gate === undefined ? { act: d.act } : { act: d.act, gate: d.gate },
  };
}

/** What a standby needs of this host to carry on; `episode` is the engine's, for hosts in one. */
export function snapshotOf(
  host: string,
  state: HostState,
  episode: string | undefined,
  clocks: Clocks,
): HostSnapshot {
  return {
    host,
    phase: state.phase,
    since: toWall(state.since, clocks),
    ...(episode === undefined ? {} : { episode }),
    ...(state.fencedBootId === undefined ? {} : { fencedBootId: state.fencedBootId }),
    ...(state.fenceMethod === undefined ? {} : { fenceMethod: state.fenceMethod }),
    holdDisabled: state.holdDisabled,
    ...(state.recoveredAt === undefined ? {} : { recoveredAt: toWall(state.recoveredAt, clocks) }),
  };
}

/**
 * The state a standby starts a host in: the phase and what the phases rest on (the boot id to
 * tell a reboot by, the fence method, the re-flap hold). The counters start from zero and the
 * silence counts from the takeover (watchingSince), so a standby that heard nothing yet does not
 * take the gap of the failover for a host's silence. A host that was in trouble counts as in
 * trouble since it entered its phase: the valve then still sees it. A host resumed in `fencing`
 * or `evacuating` stays there until the standby feeds the outcome it finds (the BMC's power
 * state; the evacuation rows and Nova): the machine has no timeout of its own.
 */
export function resumedState(s: HostSnapshot, clocks: Clocks): HostState {
  const since = toMono(s.since, clocks);
  const troubled = s.phase !== "healthy" && s.phase !== "disabled";
  return {
    phase: s.phase,
    since,
    condition: "ok",
    bad: 0,
    good: 0,
    watchingSince: clocks.mono,
    ...(troubled ? { troubleSince: since } : {}),
    ...(s.phase === "failed" ? { failedAt: since } : {}),
    ...(s.recoveredAt === undefined ? {} : { recoveredAt: toMono(s.recoveredAt, clocks) }),
    ...(s.fencedBootId === undefined ? {} : { fencedBootId: s.fencedBootId }),
    ...(s.fenceMethod === undefined ? {} : { fenceMethod: s.fenceMethod }),
    holdDisabled: s.holdDisabled,
    alerted: false,
  };
}
