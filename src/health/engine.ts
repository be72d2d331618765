import { redact } from "../inventory/secrets.ts";
import { isDeployed, notImplemented } from "../services/deployable.ts";
import type { ServiceDef } from "../services/types.ts";
import type { Topology } from "../topology/types.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { runLimited } from "../util/run-limited.ts";
import { sharedAnswers } from "./shared.ts";
import type { CheckResult, ProbeContext, ProbeSpec, StatusReport } from "./types.ts";

export interface StatusOptions {
  transport(host: string): Transport;
  secrets: Readonly<Record<string, string>>;
  /** Only probes of these services. */
  only?: readonly string[];
  /** How many probes run at once. @default 16 */
  concurrency?: number;
  /** The site's services: the implemented ones are probed, the declared ones named as such. */
  services: readonly ServiceDef[];
}

interface Job {
  service: string;
  spec: ProbeSpec;
  host?: string;
}

/** Runs every probe every service declares, in parallel, and folds them into one verdict. */
export async function collectStatus(topology: Topology, options: StatusOptions): Promise<StatusReport> {
  const jobs: Job[] = [];
  for (const service of options.services) {
    if (options.only && !options.only.includes(service.id)) continue;
    if (!isDeployed(service, topology)) continue;
    const serviceHosts = service.hosts(topology);
    for (const spec of service.health?.(topology, options.services) ?? []) {
      if (spec.on === "once") jobs.push({ service: service.id, spec });
      else for (const host of spec.hosts ?? serviceHosts) jobs.push({ service: service.id, spec, host });
    }
  }
  const shared = sharedAnswers();
  const limit = options.concurrency ?? 16;
  const first = await runLimited(jobs, limit, (job) => runProbe(topology, job, options, shared));
  // A probe that did not answer in time while every other probe ran beside it is asked once
  // more, after them: on a busy 2-core lab one of ~100 probes missed its 10 s in the burst
  // (corosync on ctl3 at the end of npm run lab) and answered at once alone. Only a second
  // silence is "down"; an answer on the retry is kept, with a warning that it was slow.
  const again = first.flatMap((c, i) => (c.timedOut ? [i] : []));
  const retried = await runLimited(again, limit, (i) =>
    runProbe(topology, jobs[i] as Job, options, sharedAnswers()),
  );
  const checks = first.map((c, i) => {
    const second = retried[again.indexOf(i)];
    const result = !second
      ? c
      : second.timedOut
        ? { ...second, summary: `${second.summary}, twice` }
        : {
            ...second,
            warnings: [
              ...(second.warnings ?? []),
              `slow: ${c.summary} on the first attempt, answered in ${(second.durationMs / 1000).toFixed(1)} s on the second`,
            ],
          };
    const { timedOut: _, ...rest } = result;
    return rest;
  });
  // Declared services are named, never counted as checks that passed.
  const declared = notImplemented(options.services, topology)
    .map((s) => s.id)
    .filter((id) => !options.only || options.only.includes(id));
  const verdict = verdictOf(checks);
  const warnings = checks.flatMap((c) =>
    (c.warnings ?? []).map((w) => `${c.service}.${c.probe}${c.host ? `@${c.host}` : ""}: ${w}`),
  );
  const headline = [
    verdict.headline,
    ...(declared.length > 0 ? [`not implemented: ${declared.join(", ")}`] : []),
    ...(warnings.length > 0 ? [`${warnings.length} warning(s)`] : []),
  ].join("; ");
  return {
    cluster: topology.cluster,
    at: new Date().toISOString(),
    checks,
    notImplemented: declared,
    verdict: verdict.verdict,
    headline,
    warnings,
  };
}

async function runProbe(
  topology: Topology,
  job: Job,
  options: StatusOptions,
  shared: ProbeContext["shared"],
): Promise<CheckResult & { timedOut?: true }> {
  const started = performance.now();
  const controller = new AbortController();
  const timeoutMs = job.spec.timeoutMs ?? 10_000;
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const ctx: ProbeContext = {
    topology,
    transport: options.transport,
    exec: (host, command, opts) =>
      options.transport(host).exec(command, { timeoutMs, signal: controller.signal, ...opts }),
    secret(name) {
      const value = options.secrets[name];
      if (value === undefined) throw new HastackError("E_SECRET_MISSING", `Cannot find secret ${name}`);
      return value;
    },
    signal: controller.signal,
    shared,
  };
  const host = job.host ? topology.hosts.find((h) => h.name === job.host) : undefined;
  if (host) ctx.host = host;
  const base = {
    service: job.service,
    probe: job.spec.id,
    title: job.spec.title,
    weight: job.spec.weight,
    ...(job.host ? { host: job.host } : {}),
  };
  try {
    const result = await Promise.race([
      job.spec.run(ctx),
      new Promise<never>((_, reject) =>
        controller.signal.addEventListener("abort", () =>
          reject(new HastackError("E_PROBE_TIMEOUT", `no answer within ${timeoutMs} ms`)),
        ),
      ),
    ]);
    return { ...base, ...result, durationMs: performance.now() - started };
  } catch (error) {
    // An unreachable host or a probe that cannot run says so; it never hides the other checks.
    const message = error instanceof Error ? error.message : String(error);
    // Our own timer fired: whatever the probe threw on its way out, it was out of time.
    const timedOut = controller.signal.aborted;
    return {
      ...base,
      ...(timedOut ? { timedOut: true as const } : {}),
      state: "down",
      summary: redact(message.split("\n")[0] ?? message, options.secrets),
      durationMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * down: a critical check is down, or every host of a redundant check is.
 * degraded: anything else not ok. healthy: all ok.
 */
export function verdictOf(checks: readonly CheckResult[]): Pick<StatusReport, "verdict" | "headline"> {
  const bad = checks.filter((c) => c.state !== "ok");
  if (bad.length === 0) return { verdict: "healthy", headline: `healthy: ${checks.length} checks ok` };
  const groups = new Map<string, CheckResult[]>();
  for (const c of checks)
    groups.set(`${c.service}.${c.probe}`, [...(groups.get(`${c.service}.${c.probe}`) ?? []), c]);
  const downGroups = [...groups.entries()].filter(([, list]) =>
    list[0]?.weight === "critical"
      ? list.some((c) => c.state === "down")
      : list.every((c) => c.state === "down" || c.state === "unknown"),
  );
  const name = (c: CheckResult) => `${c.service}.${c.probe}${c.host ? `@${c.host}` : ""}`;
  if (downGroups.length > 0) {
    const what = downGroups.map(([id]) => id).join(", ");
    return { verdict: "down", headline: `DOWN: ${what}; ${bad.length} of ${checks.length} checks failing` };
  }
  return { verdict: "degraded", headline: `DEGRADED: ${bad.map(name).join(", ")}` };
}

export function exitCodeOf(report: StatusReport): number {
  return report.verdict === "healthy" ? 0 : report.verdict === "degraded" ? 1 : 2;
}
