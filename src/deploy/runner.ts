/**
 * @module
 * Runs a plan: whatever is ready starts, up to `concurrency` steps at once. On one host, checks
 * run side by side and an apply runs alone (host-locks.ts): apt, dpkg and systemctl do not like
 * company, and a check must not read a half-applied state. A failure blocks only what waits for
 * it; independent work on other hosts carries on, so a resume has less left to do.
 *
 * A check's answer is used only while it still holds: when anything applied (on any host) between
 * a check and its step's turn to apply, the step checks again, alone on its host, first.
 *
 * Checks ahead (check-ahead.ts): until the run's first apply, free slots run the checks of steps
 * still waiting for others. Nothing has changed yet, so such an answer is the one the check would
 * give in its turn, as long as nothing applies before then either: a "no change" is taken when the
 * step's turn comes and nothing applied so far; anything else is dropped and the step runs as usual.
 * A deploy that changes nothing is then as long as its slowest checks, not as its longest chain.
 */
import type { RenderedFile } from "../services/render.ts";
import type { ServiceDef, StepLogger } from "../services/types.ts";
import type { Topology } from "../topology/types.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { type Ahead, type AheadAnswer, type AheadInput, checkAhead } from "./check-ahead.ts";
import { makeStepContext } from "./context.ts";
import { type Counts, type DeployEvent, emptyCounts, type NodeStatus } from "./events.ts";
import { type HostLocks, hostLocks, type Release } from "./host-locks.ts";
import type { Plan, PlanNode } from "./plan.ts";
import { type SharedReads, sharedReads } from "./shared-reads.ts";

export interface RunnerOptions {
  topology: Topology;
  services: readonly ServiceDef[];
  /** Rendered files per host, secrets as placeholders (steps validate them before writing). */
  files: ReadonlyMap<string, RenderedFile[]>;
  transports: ReadonlyMap<string, Transport>;
  dryRun: boolean;
  /** @default 16 */
  concurrency?: number;
  emit(event: DeployEvent): void;
  /** Node keys finished by the run being resumed. */
  done: ReadonlySet<string>;
  secrets: Readonly<Record<string, string>>;
  redact(text: string): string;
}

interface Outcome {
  status: NodeStatus;
  message?: string;
  code?: string;
}

// A declared step does not block what follows it: it never did anything before either.
const succeeded: ReadonlySet<NodeStatus> = new Set([
  "ok",
  "changed",
  "resumed",
  "would-change",
  "not-implemented",
]);
const CONNECTION_CODES = /^E_(SSH|HOSTKEY)_/;

export function runPlan(plan: Plan, opts: RunnerOptions): Promise<Counts> {
  const limit = opts.concurrency ?? 16;
  const results = new Map<string, Outcome>();
  const remaining = new Set(plan.nodes);
  const counts = emptyCounts();
  const ahead = new Map<string, Ahead>();
  /** Steps and checks ahead under way: both hold a slot. */
  let running = 0;
  // A released lock may let a waiting step or check start: look again, once, soon after.
  let pump = () => {};
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      pump();
    });
  };
  const run: RunState = {
    applies: 0,
    locks: hostLocks(schedule),
    reads: sharedReads(),
    onFirstApply() {
      // Whatever they find may no longer hold: stop them, free their slots.
      for (const a of ahead.values()) a.abort();
    },
  };
  const tally = (o: Outcome) => {
    const field =
      o.status === "would-change"
        ? "wouldChange"
        : o.status === "not-implemented"
          ? "notImplemented"
          : o.status;
    counts[field]++;
  };

  return new Promise((resolve, reject) => {
    const finish = (node: PlanNode, outcome: Outcome, durationMs: number) => {
      results.set(node.key, outcome);
      tally(outcome);
      opts.emit({
        type: "step-end",
        key: node.key,
        step: node.step,
        host: node.host,
        durationMs,
        ...outcome,
      });
    };
    const startStep = (node: PlanNode) => {
      remaining.delete(node);
      running++;
      const started = performance.now();
      execute(node, opts, run)
        .then(
          (outcome) => finish(node, outcome, performance.now() - started),
          (error: unknown) => finish(node, failure(node, error, opts), performance.now() - started),
        )
        .finally(() => {
          running--;
          pump();
        });
    };
    const startAhead = (node: PlanNode) => {
      running++;
      const a = checkAhead(node, checkAheadInput(node, opts, run), run.locks);
      ahead.set(node.key, a);
      a.done.finally(() => {
        running--;
        pump();
      });
    };
    pump = () => {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const node of remaining) {
          const failedDep = [...node.deps].find((d) => {
            const r = results.get(d);
            return r !== undefined && !succeeded.has(r.status);
          });
          if (failedDep) {
            remaining.delete(node);
            ahead.get(node.key)?.abort();
            finish(node, { status: "blocked", message: `waits for ${failedDep}, which did not finish` }, 0);
            progressed = true;
            continue;
          }
          const ready = [...node.deps].every((d) => results.has(d));
          if (!ready) continue;
          const a = ahead.get(node.key);
          // Its check is still under way (even when aborted): its end pumps again.
          if (a && a.answer === undefined) continue;
          if (a?.answer?.ok && run.applies === 0) {
            remaining.delete(node);
            acceptAhead(node, a.answer, opts);
            finish(node, { status: "ok" }, a.answer.durationMs);
            progressed = true;
            continue;
          }
          if (running >= limit || !run.locks.readable(node.host)) continue;
          startStep(node);
        }
      }
      // Slots no ready step took go to checks ahead, in plan order. Not in a dry run: its checks
      // show diffs as they go, which a dropped answer would show twice.
      if (!opts.dryRun && run.applies === 0) {
        for (const node of remaining) {
          if (running >= limit) break;
          if (ahead.has(node.key) || opts.done.has(node.key) || !node.spec.check) continue;
          if (run.locks.readable(node.host)) startAhead(node);
        }
      }
      if (remaining.size === 0 && running === 0) resolve(counts);
      else if (running === 0)
        reject(new Error(`Deploy runner stalled with ${remaining.size} steps left (a bug)`));
    };
    pump();
  });
}

interface RunState {
  /** Applies started in this run, on any host. */
  applies: number;
  locks: HostLocks;
  reads: SharedReads;
  onFirstApply(): void;
}

function checkAheadInput(node: PlanNode, opts: RunnerOptions, run: RunState): AheadInput {
  return {
    timeoutMs: node.spec.timeoutMs ?? 600_000,
    context: (signal, log) => stepContext(node, opts, run, signal, node.spec.timeoutMs ?? 600_000, log),
  };
}

/** One step's context on one host, the same for a check ahead and for the step's own turn. */
function stepContext(
  node: PlanNode,
  opts: RunnerOptions,
  run: RunState,
  signal: AbortSignal,
  timeoutMs: number,
  log: StepLogger,
) {
  return makeStepContext({
    step: node.step,
    host: node.host,
    topology: opts.topology,
    services: opts.services,
    files: opts.files,
    transports: opts.transports,
    dryRun: opts.dryRun,
    signal,
    timeoutMs,
    log,
    secrets: opts.secrets,
    redact: opts.redact,
    shared: run.reads.get,
  });
}

/** What a taken answer reports: the step's start, the notes its check wrote, then its end. */
function acceptAhead(node: PlanNode, answer: AheadAnswer, opts: RunnerOptions): void {
  opts.emit({ type: "step-start", key: node.key, step: node.step, host: node.host, attempt: 1 });
  for (const text of answer.notes)
    opts.emit({ type: "note", host: node.host, step: node.step, text: opts.redact(text) });
}

async function execute(node: PlanNode, opts: RunnerOptions, run: RunState): Promise<Outcome> {
  if (opts.done.has(node.key)) return { status: "resumed" };
  const attempts = (node.spec.retries ?? 0) + 1;
  for (let attempt = 1; ; attempt++) {
    opts.emit({ type: "step-start", key: node.key, step: node.step, host: node.host, attempt });
    try {
      return await withTimeout(node, opts, run);
    } catch (error) {
      if (opts.dryRun && !(error instanceof HastackError && CONNECTION_CODES.test(error.code))) {
        // A check may fail only because an earlier step has not run (nothing ran: dry run).
        return { status: "would-change", message: `check could not tell: ${describe(error, opts)}` };
      }
      if (attempt >= attempts) throw error;
      const delay = node.spec.retryDelayMs ?? 2000;
      opts.emit({
        type: "note",
        host: node.host,
        step: node.step,
        text: `attempt ${attempt}/${attempts} failed, retrying in ${delay} ms: ${describe(error, opts)}`,
      });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** A step's time limit, not counting its waits for the host: those are other steps' time. */
interface Budget {
  waiting<T>(p: Promise<T>): Promise<T>;
  /** Locks the attempt holds: let go when it is given up, whatever it still waits for. */
  held: Set<Release>;
}

async function withTimeout(node: PlanNode, opts: RunnerOptions, run: RunState): Promise<Outcome> {
  const timeoutMs = node.spec.timeoutMs ?? 600_000;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let left = timeoutMs;
  let since = performance.now();
  let fire: () => void = () => {};
  const timeout = new Promise<never>((_, reject) => {
    fire = () => {
      controller.abort();
      reject(new HastackError("E_STEP_TIMEOUT", `timed out after ${timeoutMs} ms`));
    };
    timer = setTimeout(fire, left);
  });
  const budget: Budget = {
    held: new Set(),
    async waiting(p) {
      clearTimeout(timer);
      left -= performance.now() - since;
      try {
        return await p;
      } finally {
        since = performance.now();
        timer = setTimeout(fire, Math.max(0, left));
      }
    },
  };
  try {
    return await Promise.race([attempt(node, opts, run, budget, controller.signal, timeoutMs), timeout]);
  } finally {
    clearTimeout(timer);
    for (const release of budget.held) release();
  }
}

function stepLogger(node: PlanNode, opts: RunnerOptions): StepLogger {
  const note = (text: string) =>
    opts.emit({ type: "note", host: node.host, step: node.step, text: opts.redact(text) });
  return { info: note, warn: (m) => note(`warning: ${m}`), debug: () => {} };
}

/** Runs `fn` holding the host's lock of `mode`; the wait for it does not count as the step's time. */
async function holding<T>(
  mode: "read" | "write",
  node: PlanNode,
  run: RunState,
  budget: Budget,
  fn: () => Promise<T>,
): Promise<T> {
  const release = await budget.waiting(
    mode === "read" ? run.locks.read(node.host) : run.locks.write(node.host),
  );
  budget.held.add(release);
  try {
    return await fn();
  } finally {
    budget.held.delete(release);
    release();
  }
}

async function attempt(
  node: PlanNode,
  opts: RunnerOptions,
  run: RunState,
  budget: Budget,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Outcome> {
  const { spec } = node;
  const ctx = stepContext(node, opts, run, signal, timeoutMs, stepLogger(node, opts));
  const { check, apply } = spec;
  // A step with neither is declared, not written yet: it did nothing, and says so (never "ok").
  if (!check && !apply) return { status: "not-implemented", message: "declared: no check or apply yet" };
  let seen = run.applies;
  const checked = async () => {
    seen = run.applies;
    return check ? check(ctx) : false;
  };
  if (check && (await holding("read", node, run, budget, checked))) return { status: "ok" };
  if (opts.dryRun) return { status: "would-change" };
  if (!apply) {
    if (!check) return { status: "ok" };
    throw new HastackError(
      "E_STEP_NO_APPLY",
      "the host is not in the wanted state and the step has no apply",
    );
  }
  return holding("write", node, run, budget, async () => {
    // Something applied since the check: its answer may be stale (a step's apply may also act on
    // what its check found), so ask again, alone on the host now.
    if (check && run.applies !== seen && (await check(ctx))) return { status: "ok" };
    if (run.applies++ === 0) run.onFirstApply();
    await run.reads.applying(() => apply(ctx));
    if (check && !(await check(ctx))) {
      throw new HastackError("E_STEP_UNCONVERGED", "apply finished but the check still reports a difference");
    }
    return { status: "changed" };
  });
}

function describe(error: unknown, opts: RunnerOptions): string {
  return opts.redact(error instanceof Error ? error.message : String(error));
}

/** Every failure message names step and host, whatever threw it. */
function failure(node: PlanNode, error: unknown, opts: RunnerOptions): Outcome {
  const text = describe(error, opts);
  // A toolkit error names host and action ("Cannot enable memcached on ctl2: ..."), not the step.
  const named = text.startsWith("Cannot ") && text.includes(node.step);
  const inner = text.startsWith("Cannot ") ? `c${text.slice(1)}` : text;
  const message = named ? text : `Cannot apply ${node.step} on ${node.host}: ${inner}`;
  const code = error instanceof HastackError ? error.code : "E_STEP_ERROR";
  return { status: "failed", message, code };
}
