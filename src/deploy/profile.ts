/**
 * @module
 * Where a deploy's time went, read back from its journal: each host's busy time, the slowest
 * steps, and the critical path. The journal does not store the plan's edges, so the path follows
 * what actually held each step back: the runner starts a step right after a step ends (it waited
 * for that one, as a dependency or for its host), so the step that ended last before a step started
 * is the one it waited for. That is the chain a faster deploy has to shorten. A step whose check
 * ran ahead (runner.ts) starts and ends in the same instant, when its turn came; its durationMs is
 * still the time its check took.
 */
import { readFileSync } from "node:fs";
import { HastackError } from "../util/errors.ts";

export interface StepTiming {
  key: string;
  host: string;
  status: string;
  /** Milliseconds from the run's start. */
  startMs: number;
  endMs: number;
  durationMs: number;
  /** The step whose end this one waited for; undefined for steps ready at the run's start. */
  waitedFor?: string;
}

export interface Profile {
  runId: string;
  /** As the run measured itself (run-end); undefined when the run never ended. */
  durationMs?: number;
  counts?: Record<string, number>;
  steps: StepTiming[];
  /** Sum of step durations per host, largest first. */
  busy: { host: string; ms: number; steps: number }[];
  /** From a step ready at the start to the step that ended last. */
  criticalPath: StepTiming[];
}

interface Line {
  time?: string;
  type?: string;
  key?: string;
  host?: string;
  status?: string;
  durationMs?: number;
  runId?: string;
  counts?: Record<string, number>;
}

export function readProfile(path: string): Profile {
  const text = readFileSync(path, "utf8");
  const lines: Line[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    if (raw.trim() === "") continue;
    try {
      lines.push(JSON.parse(raw) as Line);
    } catch (cause) {
      throw new HastackError("E_JOURNAL", `Cannot read journal ${path}: line ${i + 1} is not JSON`, {
        cause,
      });
    }
  }
  return profileOf(lines, path);
}

export function profileOf(lines: readonly Line[], source = "journal"): Profile {
  const first = lines[0];
  if (first?.type !== "run-start" || !first.time)
    throw new HastackError("E_JOURNAL", `Cannot read ${source}: it does not start with run-start`);
  const t0 = Date.parse(first.time);
  const at = (l: Line) => Date.parse(l.time ?? "") - t0;
  const started = new Map<string, { ms: number; after?: string }>();
  const steps: StepTiming[] = [];
  let lastEnded: string | undefined;
  let end: Line | undefined;
  for (const l of lines) {
    if (l.type === "step-start" && l.key && !started.has(l.key)) {
      started.set(l.key, { ms: at(l), ...(lastEnded ? { after: lastEnded } : {}) });
    } else if (l.type === "step-end" && l.key && l.host) {
      const endMs = at(l);
      const durationMs = l.durationMs ?? 0;
      const s = started.get(l.key);
      steps.push({
        key: l.key,
        host: l.host,
        status: l.status ?? "",
        // Blocked and resumed steps never start; they take no time.
        startMs: s?.ms ?? endMs - durationMs,
        endMs,
        durationMs,
        ...(s?.after ? { waitedFor: s.after } : {}),
      });
      lastEnded = l.key;
    } else if (l.type === "run-end") {
      end = l;
    }
  }
  return {
    runId: first.runId ?? "",
    ...(end?.durationMs === undefined ? {} : { durationMs: end.durationMs }),
    ...(end?.counts ? { counts: end.counts } : {}),
    steps,
    busy: busyByHost(steps),
    criticalPath: criticalPath(steps),
  };
}

function busyByHost(steps: readonly StepTiming[]): Profile["busy"] {
  const by = new Map<string, { host: string; ms: number; steps: number }>();
  for (const s of steps) {
    const b = by.get(s.host) ?? { host: s.host, ms: 0, steps: 0 };
    b.ms += s.durationMs;
    b.steps++;
    by.set(s.host, b);
  }
  return [...by.values()].sort((a, b) => b.ms - a.ms);
}

function criticalPath(steps: readonly StepTiming[]): StepTiming[] {
  const byKey = new Map(steps.map((s) => [s.key, s]));
  let last: StepTiming | undefined;
  for (const s of steps) if (!last || s.endMs > last.endMs) last = s;
  const path: StepTiming[] = [];
  const seen = new Set<string>();
  for (let s = last; s && !seen.has(s.key); s = s.waitedFor ? byKey.get(s.waitedFor) : undefined) {
    seen.add(s.key);
    path.push(s);
  }
  return path.reverse();
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The operator's view: the chain that set the run's length, then the slowest steps. */
export function formatProfile(p: Profile, top = 15): string {
  const out: string[] = [];
  const total = p.durationMs === undefined ? "did not end" : seconds(p.durationMs);
  const counts = p.counts
    ? Object.entries(p.counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(", ")
    : "";
  out.push(`run ${p.runId}: ${total}${counts ? ` (${counts})` : ""}`, "", "busy time per host:");
  for (const b of p.busy) out.push(`  ${b.host.padEnd(10)} ${seconds(b.ms).padStart(8)}  ${b.steps} steps`);
  const pathMs = p.criticalPath.reduce((sum, s) => sum + s.durationMs, 0);
  out.push("", `critical path (${p.criticalPath.length} steps, ${seconds(pathMs)} of step time):`);
  out.push("  ends at   takes   step");
  for (const s of p.criticalPath)
    out.push(`  ${seconds(s.endMs).padStart(7)} ${seconds(s.durationMs).padStart(7)}   ${s.key}`);
  out.push("", `slowest ${top} steps:`);
  for (const s of [...p.steps].sort((a, b) => b.durationMs - a.durationMs).slice(0, top))
    out.push(`  ${seconds(s.durationMs).padStart(7)}   ${s.key} (${s.status})`);
  return `${out.join("\n")}\n`;
}
