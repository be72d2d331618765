/**
 * @module
 * The engine's settings, what it is given (every dependency an interface, so tests and the
 * real deployment inject their own), and the state its evaluations and its actions share.
 */
import { z } from "zod";
import type { QuorumVerdict } from "../hostkit/quorum.ts";
import type { Actions, EngineHistory, EngineLog, historyWriter, onceEach } from "./engine-actions.ts";
import type { FenceResult } from "./fence.ts";
import { type ControlPlaneView, GateSettings } from "./gates.ts";
import { type HostState, HostStateSettings, type PowerState } from "./host-state.ts";
import type { HostView } from "./receiver.ts";
import type { FenceStep, RespondReport } from "./respond.ts";
import type { HaEvent } from "./store-rows.ts";

export const EngineSettings = HostStateSettings.extend(GateSettings.shape).extend({
  tick_ms: z.int().min(100).default(1000).describe("how often every compute is evaluated"),
  probe_timeout_ms: z
    .int()
    .min(100)
    .default(5000)
    .describe(
      "a BMC power read, the control-plane view or the quorum answer not back by then counts as unknown/no",
    ),
  fence_backoff_s: z
    .int()
    .min(1)
    .default(60)
    .describe("after a fence that was not confirmed, the next attempt on that host waits this long"),
});
export type EngineSettings = z.output<typeof EngineSettings>;

/** What the engine acts through; the real ones are respond.ts's steps with their deps bound. */
export interface EngineResponder {
  fence(host: string): Promise<FenceStep>;
  evacuate(host: string, fence: FenceResult, episode: string | undefined): Promise<RespondReport>;
}

export interface EngineDeps {
  /** The inventory's computes: a compute never heard from is watched (and fails) all the same. */
  computes: () => readonly string[];
  /** The receiver's view: per compute, the last heartbeat per network. */
  view: () => ReadonlyMap<string, HostView>;
  /** The BMC's power state; asked only for hosts in trouble, bounded by probe_timeout_ms. */
  power: (host: string) => Promise<PowerState>;
  controlPlane: () => Promise<ControlPlaneView>;
  /** Is this engine's node in the quorate partition (quorum.ts's readQuorum on a controller)? */
  quorate: () => Promise<QuorumVerdict>;
  respond: EngineResponder;
  reenable: (host: string, leaveDisabled: boolean) => Promise<void>;
  /**
   * For a host the engine holds disabled: has the operator enabled its nova-compute in Nova
   * (`hastack ha enable`, or `openstack compute service set --enable`), and does it report up?
   * Then the engine watches it again. Absent: only a restart of the engine would.
   */
  operatorEnabled?: (host: string) => Promise<boolean>;
  history: EngineHistory;
  log: EngineLog;
  /** The wall clock, for the history (the engine's `now` is monotonic). @default new Date() */
  wall?: () => Date;
  /** The monotonic clock start() ticks with. @default performance.now */
  mono?: () => number;
}

/** What one engine holds, shared by its evaluation (engine.ts) and its actions (engine-steps.ts). */
export interface EngineContext {
  deps: EngineDeps;
  settings: EngineSettings;
  log: EngineLog;
  wall: () => Date;
  states: Map<string, HostState>;
  /** The BMC's last answer per host in trouble. */
  powers: Map<string, PowerState>;
  /** The confirmed fence per host, for its evacuation. */
  fences: Map<string, FenceResult>;
  episodes: Map<string, string>;
  fenceFailedAt: Map<string, number>;
  /**
   * When an evacuation threw (NaN until the next evaluation stamps it with its clock): it is
   * driven again only after fence_backoff_s, not every second against a Nova that is failing.
   */
  evacuationFailedAt: Map<string, number>;
  actions: Actions;
  history: ReturnType<typeof historyWriter>;
  said: ReturnType<typeof onceEach>;
}

/** Logs and records a verdict once per change (see onceEach), keyed per host and subject. */
export function say(ctx: EngineContext, key: string, event: HaEvent, level: "info" | "warn" = "info"): void {
  if (!ctx.said.changed(key, event.detail)) return;
  ctx.log[level]({ host: event.host, kind: event.kind }, event.detail);
  ctx.history.record(event);
}

/** A probe's answer, or `fallback` when it throws or does not answer within probe_timeout_ms. */
export function bounded<T>(ctx: EngineContext, what: string, p: Promise<T>, fallback: T): Promise<T> {
  const { log, settings } = ctx;
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    t = setTimeout(() => {
      log.warn({ what }, `${what}: no answer within ${settings.probe_timeout_ms} ms`);
      resolve(fallback);
    }, settings.probe_timeout_ms);
  });
  const answer = p.catch((error: unknown) => {
    log.warn({ what, err: String(error) }, `${what} failed`);
    return fallback;
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(t));
}
