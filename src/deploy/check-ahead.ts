/**
 * @module
 * A step's check run before the steps it waits for have finished (the runner's "checks ahead",
 * see runner.ts for when its answer is taken). The answer is kept only when it is "no change":
 * any other (a difference, an error, a timeout) may come from a step not having run yet, and the
 * step then runs in its turn as if this never happened. Its notes are held back until the answer
 * is taken, so a dropped answer leaves no trace in the run's output.
 */
import type { StepContext, StepLogger } from "../services/types.ts";
import type { HostLocks } from "./host-locks.ts";
import type { PlanNode } from "./plan.ts";

export interface AheadAnswer {
  ok: boolean;
  /** What the check logged, to be emitted only if the answer is taken. */
  notes: string[];
  durationMs: number;
}

export interface Ahead {
  /** Set once the check has ended (an error or an abort answers "not ok"). */
  answer?: AheadAnswer;
  aborted: boolean;
  /** Stops the check (its commands get the abort signal): its answer will be "not ok". */
  abort(): void;
  done: Promise<void>;
}

export interface AheadInput {
  timeoutMs: number;
  context(signal: AbortSignal, log: StepLogger): StepContext;
}

export function checkAhead(node: PlanNode, input: AheadInput, locks: HostLocks): Ahead {
  const controller = new AbortController();
  const notes: string[] = [];
  const log: StepLogger = {
    info: (m) => notes.push(m),
    warn: (m) => notes.push(`warning: ${m}`),
    debug: () => {},
  };
  const state: Ahead = {
    aborted: false,
    abort() {
      state.aborted = true;
      controller.abort();
    },
    done: Promise.resolve(),
  };
  state.done = (async () => {
    const started = performance.now();
    const timer = setTimeout(() => state.abort(), input.timeoutMs);
    const release = await locks.read(node.host);
    let ok = false;
    try {
      const check = node.spec.check;
      // Waited for even when aborted: the step's own run must not start while this check still
      // runs (a step may keep what its check found, for its apply). The abort kills its commands.
      if (check && !controller.signal.aborted) ok = await check(input.context(controller.signal, log));
    } catch {
      ok = false;
    } finally {
      clearTimeout(timer);
      release();
    }
    state.answer = { ok: ok && !state.aborted, notes, durationMs: performance.now() - started };
  })();
  return state;
}
