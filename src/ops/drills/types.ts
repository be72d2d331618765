import type { NetworkName } from "../../inventory/schema.ts";
import type { Topology } from "../../topology/types.ts";
import type { TransportPool } from "../../transport/pool.ts";
import type { ExecResult } from "../../transport/types.ts";

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
}

export interface DrillContext {
  topology: Topology;
  pool: TransportPool;
  secrets: Readonly<Record<string, string>>;
  injector: FaultInjector;
  log(line: string): void;
}

export interface Injected {
  target: string;
  /** What was done, for the report: "powered off ctl1 (the VIP holder) through its BMC". */
  action: string;
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
  inject(ctx: DrillContext): Promise<Injected>;
  /** Sampled while the fault is on; returns a violation ("two VIP holders: ctl1, ctl2") or undefined. */
  watch?(ctx: DrillContext, injected: Injected): Promise<string | undefined>;
  /** After recovery: problems found (lost writes, target not fenced...). */
  verify?(ctx: DrillContext, injected: Injected, facts: DrillFacts): Promise<string[]>;
}

export interface DrillFacts {
  /** Sequence numbers whose INSERT the database acknowledged (sql-write drills). */
  acked: number[];
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
  violations: string[];
  problems: string[];
  healthyAgainMs?: number;
  ok: boolean;
}
