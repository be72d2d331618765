/**
 * @module
 * One compute's state machine: a pure function from (state, signals, now, settings) to the next
 * state and the reasons for it. The engine calls it once per compute per evaluation (every
 * second), feeds back the outcome of its own actions (fence, evacuation) as events, and acts on
 * the phases: it fences `failed` hosts the gates let through, evacuates `fenced` ones, and
 * re-enables a host in Nova when it goes from `recovering` to `healthy`.
 *
 *   healthy -> suspect -> failed -> fencing -> fenced -> evacuating -> evacuated -> recovering -> healthy
 *                 ^--------' (recovered before a fence)      fence failed: back to failed
 *   disabled: the operator's, or a host that failed again soon after it recovered.
 */
import { z } from "zod";
import {
  type ActionEvent,
  type Condition,
  classify,
  isFenceWorthy,
  newestHeartbeat,
  type Signals,
} from "./signals.ts";

export type { ActionEvent, Condition, PowerState, Signals } from "./signals.ts";

export type Phase =
  | "healthy"
  | "suspect"
  | "failed"
  | "fencing"
  | "fenced"
  | "evacuating"
  | "evacuated"
  | "recovering"
  | "disabled";

export const HostStateSettings = z.strictObject({
  silence_ms: z
    .int()
    .min(1100)
    .default(2000)
    .describe(
      "a network counts as silent when no heartbeat came over it for this long (they come every second)",
    ),
  fail_after: z
    .int()
    .min(1)
    .default(3)
    .describe("consecutive bad evaluations (one a second) before a host fails"),
  recover_after: z
    .int()
    .min(1)
    .default(5)
    .describe("consecutive good evaluations before a host counts as back"),
  reflap_window_s: z
    .int()
    .min(0)
    .default(3600)
    .describe("a host that fails again this soon after it recovered comes back disabled"),
  leave_disabled: z.boolean().default(false).describe("never re-enable a recovered host: the operator does"),
});
export type HostStateSettings = z.output<typeof HostStateSettings>;

export interface HostState {
  phase: Phase;
  /** When the host entered this phase (monotonic ms). */
  since: number;
  /** The last evaluation's condition. */
  condition: Condition;
  /** Consecutive bad evaluations of one kind (fence-worthy, or alert-only). */
  bad: number;
  /** Consecutive good evaluations. */
  good: number;
  /** When the engine started watching: silence before the first heartbeat counts from here. */
  watchingSince: number;
  /** When the current episode of trouble began (entering suspect); what the valve counts. */
  troubleSince?: number;
  failedAt?: number;
  recoveredAt?: number;
  /** The boot id heard last before the fence: the host is back only with another one. */
  fencedBootId?: string;
  fenceMethod?: "power" | "storage";
  /** It failed again within the window after recovering: it comes back disabled. */
  holdDisabled: boolean;
  /** The management-lost alert went out for this episode. */
  alerted: boolean;
}

export interface Transition {
  state: HostState;
  /** Why the state changed, one sentence each; empty when nothing changed. */
  reasons: string[];
  /** A message for the operator (sent once per episode), if this evaluation calls for one. */
  alert?: string;
}

export function initialState(now: number): HostState {
  return {
    phase: "healthy",
    since: now,
    condition: "ok",
    bad: 0,
    good: 0,
    watchingSince: now,
    holdDisabled: false,
    alerted: false,
  };
}

/** A failed host the engine may fence: failed, and still failing in a fence-worthy way right now. */
export function fenceWorthy(state: HostState): boolean {
  return state.phase === "failed" && isFenceWorthy(state.condition);
}

function find<K extends ActionEvent["kind"]>(
  events: readonly ActionEvent[] | undefined,
  kind: K,
): Extract<ActionEvent, { kind: K }> | undefined {
  return events?.find((e): e is Extract<ActionEvent, { kind: K }> => e.kind === kind);
}

export function next(
  state: HostState,
  signals: Signals,
  now: number,
  settings: HostStateSettings,
): Transition {
  const { condition, why } = classify(signals, now, state.watchingSince, settings.silence_ms);
  const bootId = newestHeartbeat(signals)?.heartbeat.bootId;
  const good = condition === "ok" || condition === "degraded";
  const kind = good ? "good" : isFenceWorthy(condition) ? "fence" : "alert";
  // Bad evaluations count in a row only while of one kind: two seconds of management loss and
  // then one of storage loss is one bad second towards a fence, not three.
  const sameKind = !good && (isFenceWorthy(state.condition) ? "fence" : "alert") === kind;
  const s: HostState = {
    ...state,
    condition,
    bad: good ? 0 : sameKind ? state.bad + 1 : 1,
    good: good ? state.good + 1 : 0,
  };
  const stay: Transition = { state: s, reasons: [] };
  function to(phase: Phase, reason: string, extra: Partial<HostState> = {}): Transition {
    return { state: { ...s, ...extra, phase, since: now }, reasons: [reason] };
  }
  /** Back to healthy: the episode is over (its alert, its trouble); the last recovery is kept. */
  function healthy(reason: string, recoveredAt = s.recoveredAt): Transition {
    const fresh = {
      ...initialState(now),
      watchingSince: s.watchingSince,
      condition,
      good: s.good,
      recoveredAt,
    };
    return { state: fresh, reasons: [reason] };
  }

  const events = signals.events;
  if (find(events, "operator-disable") && s.phase !== "fencing" && s.phase !== "evacuating") {
    return to("disabled", "disabled by the operator");
  }
  if (find(events, "operator-enable") && s.phase === "disabled") return healthy("enabled by the operator");

  switch (s.phase) {
    case "disabled":
      return stay;
    case "healthy":
      if (good) return stay;
      return to("suspect", `suspect: ${why}`, { troubleSince: now });
    case "suspect":
      if (good)
        return s.good < settings.recover_after
          ? stay
          : healthy(`healthy again after ${s.good} good evaluations`);
      if (s.bad < settings.fail_after) return stay;
      if (kind === "alert") {
        if (s.alerted) return stay;
        return {
          state: { ...s, alerted: true },
          reasons: [`not evacuating: ${why}`],
          alert: `${why}; not evacuating, the VMs stay where they are`,
        };
      }
      return failed(s, now, why, bootId ?? s.fencedBootId, settings);
    case "failed":
      if (find(events, "fence-started")) return to("fencing", "fencing");
      if (kind === "alert") return to("suspect", `no longer fence-worthy: ${why}`);
      if (good && s.good >= settings.recover_after) {
        return healthy(`recovered before it was fenced (${s.good} good evaluations)`);
      }
      // What to compare with after the fence: the last boot heard while it still spoke.
      return bootId ? { state: { ...s, fencedBootId: bootId }, reasons: [] } : stay;
    case "fencing": {
      const confirmed = find(events, "fence-confirmed");
      if (confirmed) {
        const how = confirmed.method === "power" ? "power off confirmed" : "storage blocklisted";
        return to("fenced", `fenced (${how})`, { fenceMethod: confirmed.method });
      }
      const failure = find(events, "fence-failed");
      if (failure)
        return to("failed", `fence failed: ${failure.detail}; nothing more until a fence is confirmed`);
      return stay;
    }
    case "fenced":
      // Even if it comes back now, its VMs are still its own in Nova: they are evacuated first.
      return find(events, "evacuation-started") ? to("evacuating", "evacuating") : stay;
    case "evacuating": {
      const finished = find(events, "evacuation-finished");
      if (!finished) return stay;
      return to(
        "evacuated",
        finished.failed === 0 ? "evacuated" : `evacuated, ${finished.failed} VM(s) failed`,
      );
    }
    case "evacuated":
      // Back only with another boot id than before the fence: after a storage fence, the old
      // boot may still hold the old copies of its VMs.
      if (condition !== "ok" || bootId === undefined || bootId === s.fencedBootId) return stay;
      return to("recovering", `recovering: heard again after a reboot (boot ${bootId})`, { good: 1 });
    case "recovering":
      if (!good) return to("evacuated", `bad again while recovering: ${why}`);
      if (condition !== "ok" || s.good < settings.recover_after) return stay;
      if (s.holdDisabled)
        return to("disabled", "back, but stays disabled: it failed again soon after it recovered");
      if (settings.leave_disabled) return to("disabled", "back, but stays disabled (leave_disabled)");
      return healthy(`healthy again after ${s.good} good evaluations`, now);
  }
}

function failed(
  s: HostState,
  now: number,
  why: string,
  bootId: string | undefined,
  settings: HostStateSettings,
): Transition {
  const reasons = [`failed after ${s.bad} bad evaluations: ${why}`];
  const again = s.recoveredAt !== undefined && now - s.recoveredAt <= settings.reflap_window_s * 1000;
  if (again) {
    const after = Math.round((now - (s.recoveredAt ?? now)) / 1000);
    reasons.push(`failed again ${after} s after it recovered: it will stay disabled when it is back`);
  }
  const state: HostState = {
    ...s,
    phase: "failed",
    since: now,
    failedAt: now,
    fencedBootId: bootId,
    holdDisabled: s.holdDisabled || again,
  };
  return { state, reasons };
}
