import type { ResolvedHost, Topology } from "../topology/types.ts";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.ts";

/**
 * Health is declared by services as probes (data + a function), like their deploy steps; the
 * status engine runs them all and never names a service. A probe answers "does this work?",
 * not "is the process running?".
 */
export type HealthState = "ok" | "degraded" | "down" | "unknown";

export interface ProbeSpec {
  /** Unique within its service; shown as `<service>.<id>`. */
  id: string;
  title: string;
  /** each: once per host of `hosts` (default: the service's hosts); once: a single run for the site. */
  on: "each" | "once";
  hosts?: string[];
  /**
   * How a failure weighs on the verdict. "critical": down here means the layer is down (a VIP
   * nobody holds); "redundant": one host down only degrades the site (one Galera node of three).
   */
  weight: "critical" | "redundant";
  /** @default 10_000 */
  timeoutMs?: number;
  run(ctx: ProbeContext): Promise<ProbeResult>;
}

export interface ProbeContext {
  topology: Topology;
  /** The host this run is for (`each`), or undefined (`once`). */
  host?: ResolvedHost;
  /** Transport to any host; probes that look at the whole site ask each controller. */
  transport(host: string): Transport;
  /** Runs a command on a host; never throws for a non-zero exit. */
  exec(host: string, command: string[] | string, opts?: ExecOptions): Promise<ExecResult>;
  secret(name: string): string;
  signal: AbortSignal;
  /**
   * One answer per status run for `key`: the first probe that asks runs `make`, later ones (on
   * other hosts too) get its promise. For what is expensive to the site and the same for every
   * asker, e.g. a password login of one user: Keystone spends a bcrypt hash on each, and twenty
   * at once on a busy controller took 10 s each.
   */
  shared<T>(key: string, make: () => Promise<T>): Promise<T>;
}

export interface ProbeResult {
  state: HealthState;
  /** One short line for the screen: "Primary, Synced, size 3, seqno 1042". */
  summary: string;
  /** Structured facts for --json. */
  details?: Record<string, unknown>;
  /**
   * Something an operator accepted on purpose (a waiver) but must hear about on every run: shown
   * with the verdict, without making it degraded.
   */
  warnings?: string[];
}

/** One probe run, as the status report holds it. */
export interface CheckResult extends ProbeResult {
  service: string;
  probe: string;
  title: string;
  host?: string;
  weight: ProbeSpec["weight"];
  durationMs: number;
}

export interface StatusReport {
  cluster: string;
  at: string;
  checks: CheckResult[];
  /** Services the site enables that hastack only declares: not deployed, not checked, not ok. */
  notImplemented: string[];
  verdict: "healthy" | "degraded" | "down";
  /** One line saying what is wrong, or that nothing is. */
  headline: string;
  /** Every probe's warnings, prefixed with the check that raised them. */
  warnings: string[];
}
