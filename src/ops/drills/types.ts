import type { NetworkName } from "../../inventory/schema.ts";
import type { Topology } from "../../topology/types.ts";
import type { TransportPool } from "../../transport/pool.ts";
import type { ExecResult } from "../../transport/types.ts";
import type { DrillVerdict } from "./verdict.ts";

/**
 * How a drill breaks things. The lab's injector acts through the lab's BMCs and bridges; the
 * real-host one through IPMI and SSH. Drills only see this interface.
 */
export interface FaultInjector {
  readonly kind: "lab" | "real";
  powerOff(host: string): Promise<void>;
  powerOn(host: string): Promise<void>;
  powerStatus(host: string): Promise<"on" | "off">;
  /** Cuts the host off one network (all traffic dropped), as a pulled cable would. */
  isolate(host: string, network: NetworkName): Promise<void>;
  heal(host: string): Promise<void>;
  /**
   * Runs a command on the host even while it is cut off (the lab enters its namespaces; on real
   * hosts this is SSH and fails while the host is unreachable: undefined then).
   */
  observe(host: string, argv: string[]): Promise<ExecResult | undefined>;
  /**
   * The host's disk erased and the host reinstalled, powered on and answering SSH, knowing
   * nothing of the site. Only the lab can: on real hosts that is the site's provisioning.
   */
  reinstall?(host: string): Promise<void>;
  /**
   * The host's BMC silenced (requests time out) and then its plug pulled: a host whose BMC died
   * with it. `bmcBack` lets the BMC answer again; the host stays off until powered on. Only the
   * lab can: a real BMC is not ours to break.
   */
  bmcDead?(host: string): Promise<void>;
  bmcBack?(host: string): Promise<void>;
}

/** `hastack deploy` of the drill's inventory, its output through the drill's log. */
export type DeployRun = () => Promise<{ ok: boolean; runId: string }>;

export interface DrillContext {
  topology: Topology;
  pool: TransportPool;
  secrets: Readonly<Record<string, string>>;
  injector: FaultInjector;
  log(line: string): void;
  /** Records how long one stage took ("fence", "rejoined"), for the report. */
  timing(label: string, ms: number): void;
  /** Given by the CLI, which composes the services (a drill never names them). */
  deploy?: DeployRun;
}

export interface Injected {
  target: string;
  /** What was done, for the report: "powered off ctl1 (the VIP holder) through its BMC". */
  action: string;
  /** What the injection itself found (a fence that did not power the target off). */
  findings?: DrillFinding[];
  restore(): Promise<void>;
}

/** A drill is data plus three small functions; the runner does the probing, timing and restore. */
export interface DrillDef {
  id: string;
  title: string;
  /** What the probe does every 50 ms. */
  probe: "sql-read" | "sql-write";
  /** The downtime the design promises, for the verdict line. */
  goalMs(topology: Topology): number;
  /**
   * Whether the fault interrupts the probed service. A drill that expects no outage (fencing a
   * controller that holds neither the VIP nor the writes) does not wait for a failure to recover
   * from. @default true
   */
  outage?: boolean;
  /**
   * Runs before the fault's clock starts, after the probe has settled: what must already be going
   * on when the fault lands (the API load of controller-poweroff-under-load).
   */
  prepare?(ctx: DrillContext): Promise<void>;
  inject(ctx: DrillContext): Promise<Injected>;
  /** Sampled while the fault is on; returns a violation ("two VIP holders: ctl1, ctl2") or undefined. */
  watch?(ctx: DrillContext, injected: Injected): Promise<string | undefined>;
  /** After the restore: what was found wrong (a lost write is unsafe; a missing measurement failed). */
  verify?(ctx: DrillContext, injected: Injected, facts: DrillFacts): Promise<DrillFinding[]>;
}

/** "unsafe": a safety property broke (two VIP holders, a lost write, no fence); "failed": anything else. */
export interface DrillFinding {
  severity: "unsafe" | "failed";
  message: string;
}

export interface DrillFacts {
  /** Sequence numbers whose INSERT the database acknowledged (sql-write drills). */
  acked: number[];
  /**
   * Outages the drill measured itself (each API under load), set by its verify: the verdict
   * weighs the longest of these and the probe's against the goal.
   */
  downtimes?: { label: string; ms: number }[];
}

export interface DrillReport {
  drill: string;
  target: string;
  action: string;
  downtimeMs: number;
  goalMs: number;
  /** How long injecting took; the fault lands at its end. */
  injectMs: number;
  firstFailureMs?: number;
  recoveredMs?: number;
  attempts: number;
  failedAttempts: number;
  errors: string[];
  /** Safety violations: any makes the verdict unsafe. */
  violations: string[];
  /** What else went wrong (no recovery, a restore that failed): any makes it failed. */
  problems: string[];
  healthyAgainMs?: number;
  /** Stages the drill timed itself, in order: fence, power off confirmed, rejoined... */
  timings: { label: string; ms: number }[];
  verdict: DrillVerdict;
  /** The exit code `hastack drill` ends with for this verdict. */
  exitCode: number;
  /** verdict === "passed" */
  ok: boolean;
}
