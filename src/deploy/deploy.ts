/**
 * @module
 * `hastack deploy` as a function: plan from the registry, connect, run, journal, summarize.
 *
 * Resume semantics: `--resume` continues the newest run's journal when that run failed or never
 * finished. Steps it finished are not run again, and restarts it owed are still done. It refuses
 * when the inputs changed since (plan, rendered files, secrets, --limit): those finished steps were
 * checked against the old inputs, so skipping them could leave old config in place. A plain deploy
 * is always safe instead, as every step checks before it acts.
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { redact } from "../inventory/secrets.ts";
import { notImplemented } from "../services/deployable.ts";
import type { RenderedFile } from "../services/render.ts";
import type { ServiceDef } from "../services/types.ts";
import type { Topology } from "../topology/types.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import type { BuiltinEnv } from "./builtin-steps.ts";
import type { Counts, DeployEvent, PendingRestart } from "./events.ts";
import { journalReporter, latestJournal, newRunId, readJournal, runsDir } from "./journal.ts";
import { acquireDeployLock } from "./lock.ts";
import { buildPlan, type Plan } from "./plan.ts";
import { planUnits } from "./plan-units.ts";
import { preflight } from "./preflight.ts";
import { fanOut, type Reporter } from "./reporter.ts";
import { RestartBook, systemd, type UnitControl } from "./restarts.ts";
import { runPlan } from "./runner.ts";

export interface DeployInput {
  topology: Topology;
  services: readonly ServiceDef[];
  /** Rendered files per host (renderTopology), secrets still as placeholders. */
  files: ReadonlyMap<string, RenderedFile[]>;
  secrets: Readonly<Record<string, string>>;
  transports: ReadonlyMap<string, Transport>;
  /** Journals go to `<dir of inventory>/.hastack/runs`. */
  inventoryPath: string;
}

export interface DeployOptions {
  reporter: Reporter;
  dryRun?: boolean;
  resume?: boolean;
  limit?: string[];
  concurrency?: number;
  units?: UnitControl;
}

export interface DeployResult {
  runId: string;
  status: "ok" | "failed";
  counts: Counts;
  journal?: string;
}

/** Changes when anything a finished step was checked against changes. */
function fingerprintOf(plan: Plan, input: DeployInput): string {
  const h = createHash("sha256");
  for (const n of plan.nodes) h.update(`node ${n.key} <- ${[...n.deps].sort().join(",")}\n`);
  for (const [host, files] of [...input.files].sort(([a], [b]) => a.localeCompare(b))) {
    for (const f of files) {
      h.update(
        `file ${host} ${f.path} ${f.owner}:${f.group} ${f.mode} ${f.encoding} ${JSON.stringify(f.onChange)}\n`,
      );
      h.update(createHash("sha256").update(f.text).digest());
    }
  }
  const secrets = Object.entries(input.secrets).sort(([a], [b]) => a.localeCompare(b));
  h.update(createHash("sha256").update(JSON.stringify(secrets)).digest());
  return h.digest("hex").slice(0, 32);
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());
}

export async function deploy(input: DeployInput, opts: DeployOptions): Promise<DeployResult> {
  const runId = newRunId();
  // A dry run changes nothing, so it may look while another run works.
  const release = opts.dryRun ? () => {} : acquireDeployLock(dirname(runsDir(input.inventoryPath)), runId);
  try {
    return await deployLocked(input, opts, runId);
  } finally {
    release();
  }
}

async function deployLocked(input: DeployInput, opts: DeployOptions, runId: string): Promise<DeployResult> {
  const started = performance.now();
  const dryRun = opts.dryRun ?? false;
  const dir = runsDir(input.inventoryPath);
  let limit = opts.limit;
  let done = new Set<string>();
  let pending: PendingRestart[] = [];
  let resumeOf: string | undefined;
  let expectedFingerprint: string | undefined;
  if (opts.resume) {
    const path = latestJournal(dir);
    if (!path) throw new HastackError("E_RESUME_NONE", `Cannot resume: no earlier run in ${dir}`);
    const state = readJournal(path);
    if (state.status === "ok") {
      throw new HastackError(
        "E_RESUME_FINISHED",
        `Cannot resume: the last run (${state.runId}) finished without errors`,
        {
          hint: "run `hastack deploy` without --resume; it changes only what differs",
        },
      );
    }
    if (limit && !sameList(limit, state.limit)) {
      throw new HastackError(
        "E_RESUME_LIMIT",
        `Cannot resume ${state.runId} with a different --limit (it ran with ${state.limit?.join(",") ?? "all hosts"})`,
      );
    }
    limit = state.limit;
    done = state.done;
    pending = state.pendingRestarts;
    resumeOf = state.runId;
    expectedFingerprint = state.fingerprint;
  }
  requireKnownNames(
    "--limit",
    limit,
    input.topology.hosts.map((h) => h.name),
    "hosts of the inventory",
  );

  const journal = dryRun ? undefined : journalReporter(dir, runId);
  const reporter = journal ? fanOut(opts.reporter, journal) : opts.reporter;
  const emit = (e: DeployEvent) => reporter.emit(e);
  let book: RestartBook | undefined;
  const unitControl = opts.units ?? systemd;
  // The RestartBook exists only once the run starts (it journals); the steps look it up lazily.
  const env: BuiltinEnv = {
    secrets: input.secrets,
    emit,
    get restarts() {
      return book as RestartBook;
    },
    units: unitControl,
  };
  const units = planUnits(input, env);
  const plan = buildPlan(input.topology, units, limit);
  const fingerprint = fingerprintOf(plan, input);
  if (expectedFingerprint && expectedFingerprint !== fingerprint) {
    throw new HastackError(
      "E_RESUME_STALE",
      `Cannot resume ${resumeOf}: the inventory, rendered files or secrets changed since it ran`,
      {
        hint: "run `hastack deploy` without --resume: every step checks before it acts, so finished work is not redone",
      },
    );
  }
  await preflight(plan, input.transports, { topology: input.topology, secrets: input.secrets });

  emit({
    type: "run-start",
    runId,
    dryRun,
    ...(resumeOf ? { resumeOf } : {}),
    fingerprint,
    ...(limit ? { limit } : {}),
    nodes: plan.nodes.map((n) => ({ key: n.key, step: n.step, title: n.title, host: n.host })),
    done: [...done],
    pendingRestarts: pending,
    notImplemented: notImplemented(input.services, input.topology).map((s) => s.id),
  });
  book = new RestartBook(emit, pending);
  const counts = await runPlan(plan, {
    topology: input.topology,
    services: input.services,
    files: input.files,
    transports: input.transports,
    dryRun,
    concurrency: opts.concurrency,
    emit,
    done,
    secrets: input.secrets,
    redact: (text) => redact(text, input.secrets),
  });
  const status = counts.failed > 0 || counts.blocked > 0 ? "failed" : "ok";
  emit({ type: "run-end", status, counts, durationMs: performance.now() - started });
  await journal?.close();
  return { runId, status, counts, ...(journal ? { journal: journal.path } : {}) };
}
