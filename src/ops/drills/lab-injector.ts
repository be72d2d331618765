import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { NetworkName } from "../../inventory/schema.ts";
import { cgroupLayout, cgroupPids, payloadDir } from "../../lab/cgroups.ts";
import { cut, freezeBmc, heal, pullPlug } from "../../lab/faults.ts";
import { findHost } from "../../lab/plan.ts";
import { reinstallHost } from "../../lab/reinstall.ts";
import { requirePlan } from "../../lab/state.ts";
import type { Topology } from "../../topology/types.ts";
import type { TransportPool } from "../../transport/pool.ts";
import type { ExecResult } from "../../transport/types.ts";
import { realInjector } from "./real-injector.ts";
import type { FaultInjector } from "./types.ts";

/**
 * The lab's faults: power goes through the hosts' virtual BMCs exactly as on real hosts (this
 * process runs inside the lab namespace, where the BMC network is); cuts act on the lab's bridge
 * ports; and the lab can look inside a host even while it is cut off, by entering its network
 * namespace, so a drill sees the truth (two VIP holders) and not just silence.
 */
export async function labInjector(
  topology: Topology,
  pool: TransportPool,
  secrets: Readonly<Record<string, string>>,
): Promise<FaultInjector> {
  const plan = await requirePlan();
  const power = realInjector(topology, pool, secrets);
  return {
    kind: "lab",
    powerOff: power.powerOff,
    powerOn: power.powerOn,
    powerStatus: power.powerStatus,
    async isolate(host: string, network: NetworkName) {
      await cut(findHost(plan, host), network);
    },
    async heal(host: string) {
      await heal(findHost(plan, host));
    },
    async bmcDead(host: string) {
      await freezeBmc(findHost(plan, host), true);
      await pullPlug(findHost(plan, host));
    },
    async bmcBack(host: string) {
      await freezeBmc(findHost(plan, host), false);
    },
    async reinstall(host: string) {
      await reinstallHost(host);
    },
    async observe(host: string, argv: string[]) {
      const pid = await containerInit(host);
      if (pid === undefined) return undefined;
      return run("nsenter", ["-t", String(pid), "-n", "--", ...argv]);
    },
  };
}

/** The host's PID 1, seen from here: the process of its cgroup whose innermost pid is 1. */
async function containerInit(host: string): Promise<number | undefined> {
  const pids = await cgroupPids(payloadDir(await cgroupLayout(), host)).catch(() => [] as number[]);
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (nspid && nspid.length > 1 && nspid.at(-1) === "1") return pid;
  }
  return undefined;
}

function run(cmd: string, args: string[]): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", timeout: 5000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, durationMs: performance.now() - started });
    });
  });
}
