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
import type { RenderedFile } from "../services/render.ts";
import type { ServiceDef, StepSpec } from "../services/types.ts";
import { hostByName, type Topology } from "../topology/types.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { filesStep, packagesStep, restartStep } from "./builtin-steps.ts";
import type { Counts, DeployEvent, PendingRestart } from "./events.ts";
import { journalReporter, latestJournal, newRunId, readJournal, runsDir } from "./journal.ts";
import { acquireDeployLock } from "./lock.ts";
import { buildPlan, type Plan, type PlanUnit, qualify } from "./plan.ts";
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

function servicePlanUnits(
  input: DeployInput,
  restarts: () => RestartBook,
  emit: (e: DeployEvent) => void,
  units: UnitControl,
): PlanUnit[] {
  const { topology } = input;
  const deployed = input.services.filter((s) => s.hosts(topology).length > 0);
  const ids = new Set(deployed.map((s) => s.id));
  const packagesOf = (host: string) => {
    const resolved = hostByName(topology, host);
    const on = deployed.filter((s) => s.hosts(topology).includes(host));
    return [...new Set(on.flatMap((s) => s.packages?.(topology, resolved) ?? []))].sort();
  };
  const allHosts = topology.hosts
    .map((h) => h.name)
    .filter((h) => deployed.some((s) => s.hosts(topology).includes(h)));
  const out: PlanUnit[] = [];
  const withPackages = allHosts.some((h) => packagesOf(h).length > 0);
  if (withPackages)
    out.push({
      service: "host",
      after: [],
      steps: [{ id: "host.packages", spec: packagesStep(packagesOf), hosts: allHosts }],
    });
  // The RestartBook exists only once the run starts; the steps look it up lazily.
  const env = {
    secrets: input.secrets,
    emit,
    get restarts() {
      return restarts();
    },
    units,
  };
  for (const svc of deployed) {
    const hosts = svc.hosts(topology);
    const files = [...input.files.values()].flat().filter((f) => f.service === svc.id);
    const builtins: PlanUnit["steps"] = [];
    if (files.length > 0)
      builtins.push({ id: `${svc.id}.files`, spec: filesStep(svc.id, input.files, env), hosts });
    if (files.some((f) => (f.onChange.restart?.length ?? 0) + (f.onChange.reload?.length ?? 0) > 0)) {
      builtins.push({ id: `${svc.id}.restart`, spec: restartStep(svc.id, env), hosts });
    }
    const steps = placeBuiltins(svc.id, builtins, svc.steps?.(topology) ?? [], hosts);
    const after = [...(withPackages ? ["host"] : []), ...(svc.after ?? []).filter((a) => ids.has(a))];
    out.push({ service: svc.id, after, steps });
  }
  return out;
}

/**
 * The engine's files/restart steps go first, unless the service declares a step with the same id
 * and no check/apply: that one is a placeholder saying where they go (say, after a `packages`
 * step), and they take its place, title and `after`.
 */
function placeBuiltins(
  service: string,
  builtins: PlanUnit["steps"],
  declared: readonly StepSpec[],
  hosts: string[],
): PlanUnit["steps"] {
  const out: PlanUnit["steps"] = [];
  const placed = new Set<string>();
  for (const spec of declared) {
    const id = qualify(service, spec.id);
    const builtin = builtins.find((b) => b.id === id);
    if (builtin && (spec.check || spec.apply)) {
      throw new HastackError(
        "E_PLAN_DUPLICATE",
        `Step ${id} is declared by ${service} and also made by the engine from its files`,
        {
          hint: `rename ${service}'s step, or drop its check/apply so it only marks where the engine's step goes`,
        },
      );
    }
    if (builtin) {
      out.push({
        ...builtin,
        spec: { ...builtin.spec, title: spec.title, ...(spec.after ? { after: spec.after } : {}) },
      });
      placed.add(id);
      // The restart step follows the files step wherever that goes.
      const restart = builtins.find(
        (b) => b.id === `${service}.restart` && !placed.has(b.id) && id === `${service}.files`,
      );
      if (restart) {
        out.push(restart);
        placed.add(restart.id);
      }
      continue;
    }
    out.push({ id, spec, hosts: spec.hosts ?? hosts });
  }
  return [...builtins.filter((b) => !placed.has(b.id)), ...out];
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

/** Connect to every host first: a refused host key or a dead host stops the run before any change. */
async function preflight(plan: Plan, transports: ReadonlyMap<string, Transport>): Promise<void> {
  const hosts = [...new Set(plan.nodes.map((n) => n.host))];
  const failures: unknown[] = [];
  await Promise.all(
    hosts.map(async (host) => {
      const t = transports.get(host);
      if (!t) {
        failures.push(new HastackError("E_NO_TRANSPORT", `${host}: no connection was set up`));
        return;
      }
      try {
        await t.exec(["true"], { timeoutMs: 30_000 });
      } catch (error) {
        failures.push(error);
      }
    }),
  );
  const [first] = failures;
  if (failures.length === 0) return;
  // One failure keeps its own code and hint (a refused host key says what to check).
  if (failures.length === 1) throw first;
  const codes = new Set(failures.map((f) => (f instanceof HastackError ? f.code : "E_CONNECT")));
  const lines = failures.map((f) => (f instanceof Error ? f.message : String(f))).sort();
  const hints = new Set(
    failures.map((f) => (f instanceof HastackError ? f.hint : undefined)).filter((h) => h !== undefined),
  );
  throw new HastackError(
    codes.size === 1 ? ([...codes][0] ?? "E_CONNECT") : "E_CONNECT",
    `Cannot reach ${failures.length} hosts:\n  ${lines.join("\n  ")}`,
    {
      cause: first,
      ...(hints.size === 1 ? { hint: [...hints][0] } : {}),
    },
  );
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
        "E_RESUME_NOTHING",
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
  for (const host of limit ?? []) {
    if (!input.topology.hosts.some((h) => h.name === host))
      throw new HastackError(
        "E_LIMIT_UNKNOWN",
        `--limit names ${host}, which is not a host of the inventory`,
      );
  }

  const journal = dryRun ? undefined : journalReporter(dir, runId);
  const reporter = journal ? fanOut(opts.reporter, journal) : opts.reporter;
  const emit = (e: DeployEvent) => reporter.emit(e);
  let book: RestartBook | undefined;
  const units = servicePlanUnits(input, () => book as RestartBook, emit, opts.units ?? systemd);
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
  await preflight(plan, input.transports);

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
  });
  book = new RestartBook(emit, pending);
  const counts = await runPlan(plan, {
    topology: input.topology,
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
