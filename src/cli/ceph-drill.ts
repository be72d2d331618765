import type { Command } from "commander";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded, inLabNamespace } from "../lab/netns.ts";
import { labInjector } from "../ops/drills/lab-injector.ts";
import { realInjector } from "../ops/drills/real-injector.ts";
import { spread } from "../ops/drills/stats.ts";
import { VERDICT_EXIT_CODES } from "../ops/drills/verdict.ts";
import {
  CEPH_DRILLS,
  type CephDrillName,
  type CephDrillRun,
  type DrillIo,
  STALL_GOAL_MS,
  worstVerdict,
} from "../services/ceph/drill-kit.ts";
import { monHosts, osdHosts } from "../services/ceph/layout.ts";
import { leaderHost, monLost } from "../services/ceph/mon-lost-drill.ts";
import { osdKill } from "../services/ceph/osd-kill-drill.ts";
import { fmt, storagePoweroff } from "../services/ceph/poweroff-drill.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import type { Topology } from "../topology/types.ts";
import { sshPool, type TransportPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import { adminHost } from "./ceph-common.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface DrillOptions {
  inventory: string;
  json?: boolean;
  host?: string;
  osd?: string;
  runs: string;
  hold: string;
  yes?: boolean;
}

/** The host a drill breaks when --host is not given: the last storage host, or the leading monitor's. */
async function defaultTarget(name: CephDrillName, topology: Topology, pool: TransportPool) {
  if (name !== "mon-lost") return osdHosts(topology).at(-1)?.name ?? "";
  return leaderHost({ admin: await adminHost(topology, pool), topology });
}

function one(name: CephDrillName, io: DrillIo, target: string, opts: DrillOptions): Promise<CephDrillRun> {
  const hold = Number(opts.hold);
  if (name === "osd-kill") return osdKill(io, target, opts.osd === undefined ? undefined : Number(opts.osd));
  if (name === "mon-lost") return monLost(io, target, hold);
  return storagePoweroff(io, target, hold);
}

export function registerCephDrill(ceph: Command): void {
  ceph
    .command("drill")
    .argument("<name>", CEPH_DRILLS.join(", "))
    .description(
      "break Ceph while a client writes through RBD (storage-poweroff: pull a storage host's plug; osd-kill: SIGKILL one OSD; mon-lost: pull a monitor host's plug); print the I/O stall, the recovery and a verdict",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option(
      "--host <name>",
      "the host to break (default: the last storage host; mon-lost: the leading monitor's)",
    )
    .option("--osd <id>", "osd-kill: the OSD to kill (default: the host's first)")
    .option("--runs <n>", "repeat, printing the median and p95", "1")
    .option("--hold <seconds>", "how long a powered-off host stays off", "45")
    .option("-y, --yes", "do not refuse on real hosts")
    .action(async (name: string, opts: DrillOptions) => {
      requireKnownNames("drill", [name], CEPH_DRILLS, "Ceph drills");
      const drill = name as CephDrillName;
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const lab = await inLabNamespace();
      const pool = sshPool(topology);
      try {
        const target = opts.host ?? (await defaultTarget(drill, topology, pool));
        const hosts = (drill === "mon-lost" ? monHosts(topology) : osdHosts(topology)).map((h) => h.name);
        requireKnownNames(
          "--host",
          [target],
          hosts,
          drill === "mon-lost" ? "monitor hosts" : "storage hosts with OSDs",
        );
        if (!lab && !opts.yes)
          throw new HastackError("E_DRILL_CONFIRM", `Cannot break ${target} of a real site without --yes`);
        const secrets = await readSecrets(topology.secretsFile);
        const injector = lab
          ? await labInjector(topology, pool, secrets)
          : realInjector(topology, pool, secrets);
        const log = (line: string) => {
          if (!opts.json) process.stderr.write(`${line}\n`);
        };
        const runs: CephDrillRun[] = [];
        for (let i = 0; i < Number(opts.runs); i++) {
          // A monitor host that is not the target answers for the cluster throughout.
          const admin = await adminHost(topology, pool, target);
          runs.push(await one(drill, { topology, admin, transport: pool.get, injector, log }, target, opts));
          log(`run ${i + 1}: ${runs.at(-1)?.verdict}`);
        }
        const stall = spread(runs.map((r) => r.stallMs));
        const healthOk = spread(runs.flatMap((r) => (r.healthOkMs === undefined ? [] : [r.healthOkMs])));
        const clean = spread(runs.flatMap((r) => (r.cleanMs === undefined ? [] : [r.cleanMs])));
        const verdict = worstVerdict(runs);
        if (opts.json)
          printJson({
            drill,
            target,
            goalMs: STALL_GOAL_MS,
            runs,
            stall,
            clean,
            healthOk,
            verdict,
            exitCode: VERDICT_EXIT_CODES[verdict],
          });
        else {
          for (const r of runs)
            process.stdout.write(
              `${r.action}: stall ${fmt(r.stallMs)}${r.timings.map((t) => `, ${t.label} ${fmt(t.ms)}`).join("")}, HEALTH_OK ${fmt(r.healthOkMs)}; ${r.verdict}${[...r.violations, ...r.problems].map((p) => `; ${p}`).join("")}\n`,
            );
          process.stdout.write(
            `${drill} ${target}: I/O stall median ${fmt(stall.p50)}, p95 ${fmt(stall.p95)}, max ${fmt(stall.max)} (goal <= ${fmt(STALL_GOAL_MS)}); ` +
              `HEALTH_OK median ${fmt(healthOk.p50)}, p95 ${fmt(healthOk.p95)}; ${runs.length} run(s); verdict: ${verdict}\n`,
          );
        }
        process.exitCode = VERDICT_EXIT_CODES[verdict];
      } finally {
        await pool.closeAll();
      }
    });
}
