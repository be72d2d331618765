/**
 * @module
 * `hastack diagnose`: for one incident, what the book's ch. 13 has operators look at first (time,
 * disk, memory, the cluster's own logs around the incident, failed actions, fence history,
 * Galera and RabbitMQ state), from every host at once. The services declare what to gather
 * (`diagnostics`); this engine runs it and never names one. Every output is masked with the
 * site's secrets before it is kept anywhere.
 */
import { redact } from "../../inventory/secrets.ts";
import { isDeployed } from "../../services/deployable.ts";
import type { DiagnosticSpec, ServiceDef } from "../../services/types.ts";
import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { type ErrorCode, HastackError } from "../../util/errors.ts";
import { runLimited } from "../../util/run-limited.ts";

export interface DiagnoseOptions {
  transport(host: string): Transport;
  secrets: Readonly<Record<string, string>>;
  services: readonly ServiceDef[];
  window: { since: Date; until: Date };
  /** How many commands run at once. @default 16 */
  concurrency?: number;
}

export interface DiagnosticOutput {
  service: string;
  id: string;
  title: string;
  host: string;
  /** The command as run (never holds a secret: specs pass none). */
  command: string;
  /** Exit code, or undefined when the host could not be reached. */
  code?: number;
  /** stdout then stderr, secrets masked. */
  output: string;
  durationMs: number;
}

export interface DiagnosticReport {
  cluster: string;
  at: string;
  since: string;
  until: string;
  outputs: DiagnosticOutput[];
}

/** journalctl's absolute form, in UTC so every host reads the same window whatever its zone. */
export function journalTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** "10m", "2h", "30s", "1d" before `now`, or an absolute ISO timestamp; `code` is the caller's error. */
export function parseSince(value: string, now = new Date(), code: ErrorCode = "E_DIAGNOSE_SINCE"): Date {
  const relative = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (relative) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "s" | "m" | "h" | "d"];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  const absolute = new Date(value);
  if (Number.isNaN(absolute.getTime()))
    throw new HastackError(code, `Cannot read --since ${value}: not a duration (10m, 2h) nor a timestamp`);
  return absolute;
}

interface Job {
  service: string;
  spec: DiagnosticSpec;
  host: string;
}

export async function collectDiagnostics(
  topology: Topology,
  options: DiagnoseOptions,
): Promise<DiagnosticReport> {
  const window = { since: journalTime(options.window.since), until: journalTime(options.window.until) };
  const jobs: Job[] = [];
  for (const service of options.services) {
    if (!isDeployed(service, topology)) continue;
    for (const spec of service.diagnostics?.(topology) ?? [])
      for (const host of spec.hosts ?? service.hosts(topology))
        jobs.push({ service: service.id, spec, host });
  }
  const outputs = await runLimited(jobs, options.concurrency ?? 16, async (job) => {
    const argv = job.spec.argv(window);
    const started = performance.now();
    const base = {
      service: job.service,
      id: job.spec.id,
      title: job.spec.title,
      host: job.host,
      command: argv.join(" "),
    };
    try {
      const r = await options.transport(job.host).exec(argv, { timeoutMs: job.spec.timeoutMs ?? 30_000 });
      const text = [r.stdout, r.stderr.trim() ? `--- stderr\n${r.stderr}` : ""].filter(Boolean).join("\n");
      return {
        ...base,
        code: r.code,
        output: redact(text, options.secrets),
        durationMs: performance.now() - started,
      };
    } catch (error) {
      // An unreachable host is part of the incident: said in the report, never a stop.
      const message = error instanceof Error ? error.message : String(error);
      return {
        ...base,
        output: redact(`not gathered: ${message}`, options.secrets),
        durationMs: performance.now() - started,
      };
    }
  });
  return { cluster: topology.cluster, at: new Date().toISOString(), ...window, outputs };
}
