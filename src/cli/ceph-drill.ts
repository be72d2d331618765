import type { Command } from "commander";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded, inLabNamespace } from "../lab/netns.ts";
import { labInjector } from "../ops/drills/lab-injector.ts";
import { realInjector } from "../ops/drills/real-injector.ts";
import { spread } from "../ops/drills/stats.ts";
import { osdHosts } from "../services/ceph/layout.ts";
import { type PoweroffRun, storagePoweroff } from "../services/ceph/poweroff-drill.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import type { Topology } from "../topology/types.ts";
import { sshPool, type TransportPool } from "../transport/pool.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface DrillOptions {
  inventory: string;
  json?: boolean;
  host?: string;
  runs: string;
  hold: string;
  yes?: boolean;
}

/** The goal of issue 8: guests feel at most 15 s of stalled writes when a storage host dies. */
const GOAL_MS = 15_000;

type AdminHost = (topology: Topology, pool: TransportPool, except?: string) => Promise<Transport>;

export function registerCephDrill(ceph: Command, adminHost: AdminHost): void {
  ceph
    .command("drill")
    .argument("<name>", "storage-poweroff")
    .description(
      "pull a storage host's plug while a client writes through RBD; print the I/O stall and the recovery",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--host <name>", "the storage host to power off (default: the last one)")
    .option("--runs <n>", "repeat, printing the median and p95", "1")
    .option("--hold <seconds>", "how long the host stays off", "45")
    .option("-y, --yes", "do not refuse on real hosts")
    .action(async (name: string, opts: DrillOptions) => {
      requireKnownNames("drill", [name], ["storage-poweroff"], "Ceph drills");
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const storage = osdHosts(topology).map((h) => h.name);
      const target = opts.host ?? storage.at(-1) ?? "";
      requireKnownNames("--host", [target], storage, "storage hosts with OSDs");
      const lab = await inLabNamespace();
      if (!lab && !opts.yes)
        throw new HastackError("E_DRILL_CONFIRM", `Cannot power off ${target} of a real site without --yes`);
      const secrets = await readSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      try {
        const injector = lab
          ? await labInjector(topology, pool, secrets)
          : realInjector(topology, pool, secrets);
        const log = (line: string) => {
          if (!opts.json) process.stderr.write(`${line}\n`);
        };
        const runs: PoweroffRun[] = [];
        for (let i = 0; i < Number(opts.runs); i++) {
          const admin = await adminHost(topology, pool, target);
          const io = { topology, admin, transport: pool.get, injector, log };
          runs.push(await storagePoweroff(io, target, Number(opts.hold)));
        }
        const stall = spread(runs.map((r) => r.stallMs));
        const recovery = spread(runs.map((r) => r.recoveryMs));
        if (opts.json) printJson({ drill: name, target, goalMs: GOAL_MS, runs, stall, recovery });
        else
          process.stdout.write(
            `${name} ${target}: I/O stall median ${(stall.p50 / 1000).toFixed(1)} s, p95 ${(stall.p95 / 1000).toFixed(1)} s (goal <= ${GOAL_MS / 1000} s); ` +
              `active+clean ${(recovery.p50 / 1000).toFixed(1)} s (p95 ${(recovery.p95 / 1000).toFixed(1)} s) after power-on; ${runs.length} run(s)\n`,
          );
        process.exitCode = stall.p95 <= GOAL_MS ? 0 : 3;
      } finally {
        await pool.closeAll();
      }
    });
}
