import { resolve } from "node:path";
import type { Command } from "commander";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { collectDiagnostics, parseSince } from "../ops/diagnose/collect.ts";
import { formatReport, writeTarball } from "../ops/diagnose/report.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface DiagnoseOptions {
  inventory: string;
  since: string;
  until?: string;
  out?: string;
  json?: boolean;
}

export function registerDiagnose(program: Command): void {
  program
    .command("diagnose")
    .description(
      "gather what to look at first after an incident (time, disk, memory, cluster logs, failed actions, fence history, Galera, RabbitMQ) from every host at once, secrets masked",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--since <when>", "start of the window: 10m, 2h, 1d ago, or a timestamp", "10m")
    .option("--until <when>", "end of the window (default now): a duration ago, or a timestamp")
    .option("--out <file>", "the tarball (default ./hastack-diagnose-<cluster>-<time>.tar.gz)")
    .action(async (opts: DiagnoseOptions) => {
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const now = new Date();
      const window = {
        since: parseSince(opts.since, now),
        until: opts.until ? parseSince(opts.until, now) : now,
      };
      const secrets = await readSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      try {
        const report = await collectDiagnostics(topology, { transport: pool.get, secrets, services, window });
        const stamp = report.at.replace(/[:.]/g, "").slice(0, 15);
        const out = resolve(opts.out ?? `hastack-diagnose-${topology.cluster}-${stamp}.tar.gz`);
        await writeTarball(report, out);
        if (opts.json) printJson({ ...report, tarball: out });
        else process.stdout.write(`${formatReport(report)}\ntarball: ${out}\n`);
      } finally {
        await pool.closeAll();
      }
    });
}
