import type { Command } from "commander";
import { collectStatus, exitCodeOf } from "../health/engine.ts";
import { formatStatus } from "../health/screen.ts";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { requireKnownNames } from "../util/names.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface StatusOptions {
  inventory: string;
  json?: boolean;
  watch?: string | boolean;
  only?: string[];
}

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("functional health of every layer; exit 0 healthy, 1 degraded, 2 down")
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--watch [seconds]", "refresh every N seconds (default 2) until interrupted")
    .option("--only <service...>", "only these layers")
    .action(async (opts: StatusOptions) => {
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      // Only services that run probes on this site: naming another one would give zero checks.
      const probed = services
        .filter((s) => s.hosts(topology).length > 0 && (s.health?.(topology).length ?? 0) > 0)
        .map((s) => s.id);
      requireKnownNames("--only", opts.only, probed, "services with health probes on this site");
      const secrets = await readSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      const once = () =>
        collectStatus(topology, {
          transport: pool.get,
          secrets,
          services,
          ...(opts.only ? { only: opts.only } : {}),
        });
      try {
        if (opts.watch === undefined || opts.watch === false) {
          const report = await once();
          if (opts.json) printJson(report);
          else process.stdout.write(formatStatus(report, { color: process.stdout.isTTY }));
          process.exitCode = exitCodeOf(report);
          return;
        }
        const seconds = typeof opts.watch === "string" ? Number(opts.watch) : 2;
        for (;;) {
          const report = await once();
          if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
          else process.stdout.write(`\x1b[2J\x1b[H${formatStatus(report, { color: process.stdout.isTTY })}`);
          await new Promise((r) => setTimeout(r, seconds * 1000));
        }
      } finally {
        await pool.closeAll();
      }
    });
}
