/**
 * @module
 * What the Ceph drills share: where the RBD writer runs, the precondition every drill starts from
 * (HEALTH_OK, so "time to HEALTH_OK" means something), and the verdict of src/ops/drills: a lost
 * acknowledged write is unsafe, no recovery is failed, a stall over the goal is slow.
 */
import type { FaultInjector } from "../../ops/drills/types.ts";
import { type DrillVerdict, drillVerdict, VERDICT_EXIT_CODES } from "../../ops/drills/verdict.ts";
import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { healthOk } from "./converge.ts";
import type { Recovery, WriterHandle, WriterResult } from "./io-stall.ts";
import { ADMIN_KEYRING, CLIENTS, clientHosts, monHosts } from "./layout.ts";

export type CephDrillName = "storage-poweroff" | "osd-kill" | "mon-lost";
export const CEPH_DRILLS: readonly CephDrillName[] = ["storage-poweroff", "osd-kill", "mon-lost"];

/** The goal of issue 8: guests feel at most 15 s of stalled writes when storage fails. */
export const STALL_GOAL_MS = 15_000;

export interface DrillIo {
  topology: Topology;
  /** A monitor host that survives the fault (its admin keyring asks Ceph). */
  admin: Transport;
  transport(host: string): Transport;
  injector: FaultInjector;
  log(line: string): void;
}

export interface CephDrillRun {
  drill: CephDrillName;
  target: string;
  /** What was done: "powered off sto3 through its BMC". */
  action: string;
  client: string;
  stallMs: number;
  writes: number;
  /** Acknowledged writes read back at the end, and how many differed. */
  verified?: { checked: number; lost: number };
  /** From the fault's end (power-on; the kill for osd-kill) to every PG active+clean. */
  cleanMs?: number;
  /** From the same moment to HEALTH_OK. */
  healthOkMs?: number;
  timings: { label: string; ms: number }[];
  violations: string[];
  problems: string[];
  goalMs: number;
  verdict: DrillVerdict;
  exitCode: number;
}

/** A compute with Nova's key writing to vms (a VM's disk), else a monitor host with the admin key. */
export function writerFor(
  io: DrillIo,
  target: string,
): { host: string; user: string; keyring: string; pool: string } {
  const nova = CLIENTS.find((c) => c.name === "nova");
  const compute = nova ? clientHosts(io.topology, nova).find((h) => h !== target) : undefined;
  if (compute)
    return { host: compute, user: "nova", keyring: "/etc/ceph/ceph.client.nova.keyring", pool: "vms" };
  const mon = monHosts(io.topology).find((h) => h.name !== target);
  if (!mon)
    throw new HastackError("E_DRILL_PRECONDITION", "Cannot find a Ceph client host other than the target");
  return { host: mon.name, user: "admin", keyring: ADMIN_KEYRING, pool: "volumes" };
}

/** Every drill starts from HEALTH_OK: otherwise neither the stall nor the recovery means anything. */
export async function requireHealthy(io: DrillIo, drill: CephDrillName, target: string): Promise<void> {
  const ok = await healthOk(io.admin);
  if (ok !== true)
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot run ${drill} on ${target}: Ceph is not healthy: ${ok}`,
      {
        hint: "wait for HEALTH_OK (hastack status --only ceph), then run it again",
      },
    );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The writer's end, as facts: a failed writer is a problem, a block read back different a violation. */
export async function writerFacts(
  writer: WriterHandle,
): Promise<{ result?: WriterResult; violations: string[]; problems: string[] }> {
  try {
    const result = await writer.done;
    const violations =
      result.verified && result.verified.lost > 0
        ? [
            `${result.verified.lost} of ${result.verified.checked} acknowledged RBD writes read back different: data lost`,
          ]
        : [];
    const problems = result.verified ? [] : ["the RBD writer ended without reading its writes back"];
    if (result.writes === 0) problems.push("the RBD writer acknowledged no write at all");
    return { result, violations, problems };
  } catch (e) {
    return {
      violations: [],
      problems: [`the RBD writer failed: ${e instanceof Error ? e.message : String(e)}`],
    };
  }
}

export interface RunFacts {
  drill: CephDrillName;
  target: string;
  action: string;
  client: string;
  writer: Awaited<ReturnType<typeof writerFacts>>;
  recovery: Recovery;
  timings: { label: string; ms: number }[];
  problems?: string[];
}

/** The run's report and verdict: the stall is the downtime weighed against the goal. */
export function conclude(f: RunFacts): CephDrillRun {
  const problems = [...f.writer.problems, ...(f.problems ?? [])];
  if (f.recovery.healthOkMs === undefined)
    problems.push(`Ceph did not get back to HEALTH_OK: ${f.recovery.last}`);
  const violations = f.writer.violations;
  const stallMs = f.writer.result?.stallMs ?? 0;
  const verdict = drillVerdict({ downtimeMs: stallMs, goalMs: STALL_GOAL_MS, violations, problems });
  return {
    drill: f.drill,
    target: f.target,
    action: f.action,
    client: f.client,
    stallMs,
    writes: f.writer.result?.writes ?? 0,
    verified: f.writer.result?.verified,
    cleanMs: f.recovery.cleanMs,
    healthOkMs: f.recovery.healthOkMs,
    timings: f.timings,
    violations,
    problems,
    goalMs: STALL_GOAL_MS,
    verdict,
    exitCode: VERDICT_EXIT_CODES[verdict],
  };
}

const RANK: readonly DrillVerdict[] = ["passed", "slow", "failed", "unsafe"];

/** The worst verdict of several runs: one unsafe run makes the drill unsafe. */
export function worstVerdict(runs: readonly CephDrillRun[]): DrillVerdict {
  return runs.reduce<DrillVerdict>(
    (w, r) => (RANK.indexOf(r.verdict) > RANK.indexOf(w) ? r.verdict : w),
    "passed",
  );
}
