/**
 * @module
 * The instance-HA engine's decision loop (issue #10 items 2-3): once a second, every compute's
 * signals (the receiver's heartbeats, the BMC's last answer, the outcome of the engine's own
 * actions) through its state machine, the gates over every host that is fence-worthy now, and the
 * actions the gates let through, started without waiting: a fence or an evacuation takes
 * seconds to minutes, and its outcome comes back as an event on a later evaluation.
 *
 * Safety, each refusal with its reason in the log and the history:
 * - no fence without quorum: a controller cut off from its peers may be the isolated one;
 * - dry run decides and records, never fences or evacuates;
 * - at most one action per host at a time, and a fence that failed is retried only after a backoff;
 * - a fence and its evacuation are two actions: the evacuation waits for the confirmed fence,
 *   and the gates are asked again before it.
 * A standby that takes over resumes every host from its snapshot; one mid-evacuation is driven
 * again (evacuateStep re-reads every server, so none is evacuated twice).
 */
import type { z } from "zod";
import { type Actions, createActions, historyWriter, onceEach } from "./engine-actions.ts";
import { decide } from "./engine-decide.ts";
import { type EngineContext, type EngineDeps, EngineSettings } from "./engine-deps.ts";
import { startPowerRead, startReenable } from "./engine-steps.ts";
import type { FenceResult } from "./fence.ts";
import { type HostState, initialState, next, type PowerState } from "./host-state.ts";
import type { HostView } from "./receiver.ts";
import { type Clocks, resumedState, snapshotOf, transitionEvent } from "./store-mapping.ts";

export type { EngineHistory, EngineLog } from "./engine-actions.ts";

export type { EngineDeps, EngineResponder } from "./engine-deps.ts";
export { EngineSettings } from "./engine-deps.ts";

export interface Engine {
  /** One evaluation; false when another was still running (never two at once). */
  tick(now: number): Promise<boolean>;
  /** Loads the hosts' snapshots (a standby taking over); call before the first tick. */
  resume(now: number): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  states(): ReadonlyMap<string, HostState>;
  /** Resolves when no action is in flight and the history is written (tests). */
  idle(): Promise<void>;
}

/** How often Nova is asked whether the operator enabled a host the engine holds disabled. */
const OPERATOR_CHECK_MS = 10_000;

export function createEngine(deps: EngineDeps, raw: z.input<typeof EngineSettings> = {}): Engine {
  const settings = EngineSettings.parse(raw);
  const { log } = deps;
  const wall = deps.wall ?? (() => new Date());
  const mono = deps.mono ?? (() => performance.now());
  const states = new Map<string, HostState>();
  const powers = new Map<string, PowerState>();
  const fences = new Map<string, FenceResult>();
  const episodes = new Map<string, string>();
  const fenceFailedAt = new Map<string, number>();
  const evacuationFailedAt = new Map<string, number>();
  // Started by start(): tests drive tick() by hand and see events one tick later, as before.
  let wake: ((host: string) => void) | undefined;
  let settling: Promise<void> = Promise.resolve();
  /** Nothing in flight: no action, and no evaluation between ticks (which may start one). */
  async function quiet(): Promise<void> {
    for (;;) {
      const last = settling;
      await last;
      await actions.idle();
      if (last === settling) return;
    }
  }
  const actions: Actions = createActions(log, (host) => wake?.(host));
  const history = historyWriter(deps.history, log);
  const said = onceEach();
  const ctx: EngineContext = {
    deps,
    settings,
    log,
    wall,
    states,
    powers,
    fences,
    episodes,
    fenceFailedAt,
    evacuationFailedAt,
    actions,
    history,
    said,
  };
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  /**
   * `eventsOnly`: feeding the host's own actions' events between ticks; the heartbeat counters
   * are left as the last tick left them, so debounce still counts one evaluation a second.
   */
  function evaluate(
    host: string,
    now: number,
    clocks: Clocks,
    view: ReadonlyMap<string, HostView>,
    eventsOnly = false,
  ) {
    const before = states.get(host) ?? initialState(now);
    const event = actions.take(host);
    const seen = view.get(host);
    const t = next(
      before,
      { ...seen, power: powers.get(host) ?? "unknown", ...(event ? { events: [event] } : {}) },
      now,
      settings,
    );
    if (eventsOnly) t.state = { ...t.state, bad: before.bad, good: before.good, condition: before.condition };
    states.set(host, t.state);
    const after = t.state.phase;
    if (event?.kind === "fence-failed") fenceFailedAt.set(host, now);
    if (after === "failed" && before.phase !== "failed" && !episodes.has(host))
      episodes.set(host, `${host}@${clocks.wall.toISOString()}`);
    const entry = transitionEvent(host, before.phase, t, clocks);
    if (entry) {
      log[t.alert ? "warn" : "info"]({ host, from: before.phase, to: after }, entry.detail);
      history.record(entry);
    }
    if (after !== before.phase) {
      // A healthy host has no episode: a standby (or this engine restarted) must start the next
      // failure as a new one, or its claims would meet the old episode's rows and lose.
      history.upsertHost(
        snapshotOf(host, t.state, after === "healthy" ? undefined : episodes.get(host), clocks),
      );
      if (after === "healthy") {
        // The episode is over: its power reading, backoff and said verdicts go with it.
        for (const m of [powers, fences, episodes, fenceFailedAt, evacuationFailedAt]) m.delete(host);
        said.forget(host);
      }
      if (before.phase === "recovering" && (after === "healthy" || after === "disabled"))
        startReenable(ctx, host, after === "disabled");
    }
  }

  /**
   * A host held disabled (it failed again soon after it recovered) stays out of the engine's
   * care until the operator enables it in Nova; asked of Nova every OPERATOR_CHECK_MS.
   */
  const operatorCheckedAt = new Map<string, number>();
  function startOperatorCheck(host: string, now: number): void {
    const ask = deps.operatorEnabled;
    if (!ask || actions.busy(host) !== undefined || actions.pending(host)) return;
    if (now - (operatorCheckedAt.get(host) ?? Number.NEGATIVE_INFINITY) < OPERATOR_CHECK_MS) return;
    operatorCheckedAt.set(host, now);
    actions.start(host, "operator-check", async () =>
      (await ask(host).catch(() => false)) ? [{ kind: "operator-enable" }] : [],
    );
  }

  /**
   * Phases that move on the engine's own events alone (a fence started or confirmed, an
   * evacuation started or finished) take every queued event at once, not one a tick: a fence
   * confirmed in 0.1 s then starts its evacuation at once rather than two ticks later.
   */
  function drain(host: string, now: number, clocks: Clocks, view: ReadonlyMap<string, HostView>): void {
    for (let i = 0; i < 8 && actions.pending(host); i++) {
      const phase = states.get(host)?.phase;
      const byEvents =
        phase === "fencing" ||
        phase === "fenced" ||
        phase === "evacuating" ||
        (phase === "failed" && actions.peek(host)?.kind === "fence-started");
      if (!byEvents) return;
      evaluate(host, now, clocks, view, true);
    }
  }

  /** Between ticks, when an action's events arrive: feed them, and act on what they allow. */
  async function settle(host: string): Promise<void> {
    if (running) return; // the tick under way, or the next, takes them
    running = true;
    try {
      const now = mono();
      const clocks: Clocks = { mono: now, wall: wall() };
      drain(host, now, clocks, deps.view());
      await decide(ctx, now, clocks);
    } finally {
      running = false;
    }
  }

  async function tick(now: number): Promise<boolean> {
    if (running) return false;
    running = true;
    try {
      const clocks: Clocks = { mono: now, wall: wall() };
      const view = deps.view();
      for (const host of new Set([...deps.computes(), ...states.keys()])) {
        evaluate(host, now, clocks, view);
        drain(host, now, clocks, view);
      }
      for (const [host, s] of states) {
        if (s.phase !== "healthy" && s.phase !== "disabled") startPowerRead(ctx, host);
        if (s.phase === "disabled") startOperatorCheck(host, now);
      }
      await decide(ctx, now, clocks);
      return true;
    } finally {
      running = false;
    }
  }

  async function resume(now: number): Promise<void> {
    const clocks: Clocks = { mono: now, wall: wall() };
    const snapshots = await deps.history.hosts();
    for (const s of snapshots) {
      states.set(s.host, resumedState(s, clocks));
      // Rows written before a healthy snapshot dropped its episode may still carry one.
      if (s.episode !== undefined && s.phase !== "healthy") episodes.set(s.host, s.episode);
    }
    const busy = snapshots.filter((s) => s.phase !== "healthy").map((s) => `${s.host} ${s.phase}`);
    const detail = `resumed ${snapshots.length} host(s) from the history${busy.length ? `: ${busy.join(", ")}` : ""}`;
    log.info({ hosts: snapshots.length }, detail);
    history.record({ at: clocks.wall, kind: "alert", detail });
  }

  return {
    tick,
    resume,
    async start() {
      await resume(mono());
      wake = (host) => {
        settling = settle(host).catch((e: unknown) => log.warn({ err: String(e) }, "evaluation failed"));
      };
      // A tick still running when the next is due is skipped, never run beside it.
      timer = setInterval(
        () => void tick(mono()).catch((e: unknown) => log.warn({ err: String(e) }, "evaluation failed")),
        settings.tick_ms,
      );
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      wake = undefined;
      await quiet();
      await history.flush();
    },
    states: () => states,
    async idle() {
      await quiet();
      await history.flush();
    },
  };
}
