/**
 * @module
 * Can the cluster fence every controller? Each controller asks each other controller's BMC for
 * its power state, over SSH, with the inventory's user, password and cipher suite: exactly the
 * path a fence device takes. A controller's own BMC is not asked: Pacemaker never lets a node
 * fence itself (the devices carry a -INFINITY location on their own host), and many servers
 * cannot reach their own BMC through a shared NIC anyway.
 */
import type { Topology } from "../topology/types.ts";
import type { ExecOptions, ExecResult } from "../transport/types.ts";
import {
  bmcEndpoint,
  describeIpmiFailure,
  type IpmiFailure,
  ipmiFailureHint,
  ipmiOutcome,
  ipmitoolArgs,
  ipmitoolViaStdin,
} from "./ipmi.ts";

export interface FencePathInput {
  topology: Topology;
  /** The secret's value, or undefined when the secrets file lacks it. */
  secret(name: string): string | undefined;
  /** Runs a command on a host; never throws for a non-zero exit. */
  exec(host: string, argv: string[], opts: ExecOptions): Promise<ExecResult>;
  /**
   * Per ipmitool call, SSH included. @default 20_000: ipmitool itself gives up on a silent BMC
   * in ~6 s; the rest is for a loaded controller (a whole path took 18.7 s at load average 25).
   */
  timeoutMs?: number;
}

export interface FencePath {
  /** The controller that would run the fence device. */
  from: string;
  /** The controller whose BMC it talks to. */
  target: string;
  bmc: string;
  ok: boolean;
  failure?: IpmiFailure | "no-secret" | "no-ssh";
  /** "refused the password of user admin": completes "BMC 10.29.0.113 ...". */
  reason?: string;
  hint?: string;
  ms: number;
}

const STATUS = ["chassis", "power", "status"];

/** Every (controller, other controller's BMC) pair, all at once; a few seconds in all. */
export async function checkFencePaths(input: FencePathInput): Promise<FencePath[]> {
  // Every BMC in the inventory is checked, fencing on or off: drills and operators power hosts
  // through the same BMCs.
  const { topology } = input;
  const controllers = topology.hosts.filter((h) => h.roles.includes("controller"));
  const jobs = controllers.flatMap((target) =>
    target.bmc ? controllers.filter((c) => c.name !== target.name).map((from) => ({ from, target })) : [],
  );
  return Promise.all(
    jobs.map(async ({ from, target }): Promise<FencePath> => {
      const bmc = target.bmc;
      if (!bmc) throw new Error("unreachable: filtered above");
      const endpoint = bmcEndpoint(bmc);
      const base = { from: from.name, target: target.name, bmc: bmc.address };
      const started = performance.now();
      const password = input.secret(bmc.password_secret);
      if (password === undefined) {
        return {
          ...base,
          ok: false,
          failure: "no-secret",
          reason: `has no password: the secret ${bmc.password_secret} is missing`,
          hint: `hastack secrets set ${bmc.password_secret}`,
          ms: 0,
        };
      }
      // -v: ipmitool then says which step of the session failed. One retry: an answer lost
      // on a busy network is not a dead BMC, and two attempts still end in ~6 s.
      const { argv, stdin } = ipmitoolViaStdin(ipmitoolArgs(endpoint, STATUS, { verbose: true }), password);
      const run = await input.exec(from.name, argv, { stdin, timeoutMs: input.timeoutMs ?? 20_000 }).then(
        (r) => ({ ...r, timedOut: false }),
        (error: Error & { code?: string }) =>
          error.code === "E_COMMAND_TIMEOUT" ? { code: -1, stdout: "", stderr: "", timedOut: true } : error,
      );
      const ms = performance.now() - started;
      if (run instanceof Error) {
        return { ...base, ok: false, failure: "no-ssh", reason: `could not be asked: ${run.message}`, ms };
      }
      const outcome = ipmiOutcome(run, password, STATUS);
      if (outcome.ok) return { ...base, ok: true, ms };
      return {
        ...base,
        ok: false,
        failure: outcome.failure,
        reason: describeIpmiFailure(outcome.failure, endpoint, outcome.detail),
        hint: ipmiFailureHint(outcome.failure, bmc.password_secret),
        ms,
      };
    }),
  );
}

/**
 * One line per controller that cannot be fenced from somewhere:
 * "Cannot fence ctl3 from ctl1, ctl2: BMC 10.29.0.113 refused the password of user admin".
 */
export function fenceFailureLines(paths: readonly FencePath[]): string[] {
  const byTarget = new Map<string, FencePath[]>();
  for (const p of paths.filter((x) => !x.ok)) byTarget.set(p.target, [...(byTarget.get(p.target) ?? []), p]);
  const lines: string[] = [];
  for (const [target, failed] of byTarget) {
    const byReason = new Map<string, string[]>();
    for (const p of failed) byReason.set(p.reason ?? "", [...(byReason.get(p.reason ?? "") ?? []), p.from]);
    for (const [reason, froms] of byReason)
      lines.push(`Cannot fence ${target} from ${froms.join(", ")}: BMC ${failed[0]?.bmc} ${reason}`);
  }
  return lines;
}

/** The controllers no survivor could fence: a failure of any of them stops failover. */
export function unfenceable(paths: readonly FencePath[]): string[] {
  const targets = [...new Set(paths.map((p) => p.target))];
  return targets.filter((t) => paths.filter((p) => p.target === t).some((p) => !p.ok));
}
