/**
 * @module
 * Runs a plan: whatever is ready starts, up to `concurrency` steps at once and one step per host
 * at a time (apt, dpkg and systemctl do not like company). A failure blocks only what waits for
 * it; independent work on other hosts carries on, so a resume has less left to do.
 */
import type { RenderedFile } from "../services/render.ts";
import type { ServiceDef, StepLogger } from "../services/types.ts";
import type { Topology } from "../topology/types.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { makeStepContext } from "./context.ts";
import { type Counts, type DeployEvent, emptyCounts, type NodeStatus } from "./events.ts";
import type { Plan, PlanNode } from "./plan.ts";

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
  const busy = new Set<string>();
  const counts = emptyCounts();
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
    const pump = () => {
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
            finish(node, { status: "blocked", message: `waits for ${failedDep}, which did not finish` }, 0);
            progressed = true;
            continue;
          }
          const ready = [...node.deps].every((d) => results.has(d));
          if (!ready || busy.has(node.host) || busy.size >= limit) continue;
          remaining.delete(node);
          busy.add(node.host);
          const started = performance.now();
          execute(node, opts)
            .then(
              (outcome) => finish(node, outcome, performance.now() - started),
              (error: unknown) => finish(node, failure(node, error, opts), performance.now() - started),
            )
            .finally(() => {
              busy.delete(node.host);
              pump();
            });
        }
      }
      if (remaining.size === 0 && busy.size === 0) resolve(counts);
      else if (busy.size === 0)
        reject(new Error(`Deploy runner stalled with ${remaining.size} steps left (a bug)`));
    };
    pump();
  });
}

async function execute(node: PlanNode, opts: RunnerOptions): Promise<Outcome> {
  if (opts.done.has(node.key)) return { status: "resumed" };
  const attempts = (node.spec.retries ?? 0) + 1;
  for (let attempt = 1; ; attempt++) {
    opts.emit({ type: "step-start", key: node.key, step: node.step, host: node.host, attempt });
    try {
      return await withTimeout(node, opts);
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

async function withTimeout(node: PlanNode, opts: RunnerOptions): Promise<Outcome> {
  const timeoutMs = node.spec.timeoutMs ?? 600_000;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new HastackError("E_STEP_TIMEOUT", `timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([attempt(node, opts, controller.signal, timeoutMs), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function stepLogger(node: PlanNode, opts: RunnerOptions): StepLogger {
  const note = (text: string) =>
    opts.emit({ type: "note", host: node.host, step: node.step, text: opts.redact(text) });
  return { info: note, warn: (m) => note(`warning: ${m}`), debug: () => {} };
}

async function attempt(
  node: PlanNode,
  opts: RunnerOptions,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Outcome> {
  const { spec } = node;
  const ctx = makeStepContext({
    step: node.step,
    host: node.host,
    topology: opts.topology,
    services: opts.services,
    files: opts.files,
    transports: opts.transports,
    dryRun: opts.dryRun,
    signal,
    timeoutMs,
    log: stepLogger(node, opts),
    secrets: opts.secrets,
    redact: opts.redact,
  });
  // A step with neither is declared, not written yet: it did nothing, and says so (never "ok").
  if (!spec.check && !spec.apply)
    return { status: "not-implemented", message: "declared: no check or apply yet" };
  if (spec.check && (await spec.check(ctx))) return { status: "ok" };
  if (opts.dryRun) return { status: "would-change" };
  if (!spec.apply) {
    if (!spec.check) return { status: "ok" };
    throw new HastackError(
      "E_STEP_NO_APPLY",
      "the host is not in the wanted state and the step has no apply",
    );
  }
  await spec.apply(ctx);
  if (spec.check && !(await spec.check(ctx))) {
    throw new HastackError("E_STEP_UNCONVERGED", "apply finished but the check still reports a difference");
  }
  return { status: "changed" };
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
