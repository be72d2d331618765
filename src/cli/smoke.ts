import type { Command } from "commander";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { smokeSite } from "../ops/smoke/site.ts";
import { runSmoke } from "../ops/smoke/smoke.ts";
import { type SmokeStepResult, smokeRun } from "../ops/smoke/steps.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface SmokeOptions {
  inventory: string;
  json?: boolean;
  image: string;
  flavor: string;
  servers: string;
  bootTimeout: string;
  keep?: boolean;
}

const VERDICT = { ok: "ok", failed: "FAILED", "not-run": "not run" } as const;

function line(r: SmokeStepResult): string {
  return `${VERDICT[r.verdict].padEnd(8)}${r.seconds.toFixed(1).padStart(6)} s  ${r.name}: ${r.detail}\n`;
}

export function registerSmoke(program: Command): void {
  program
    .command("smoke")
    .description(
      "use the cloud as a tenant through the VIP with the real openstack client: token, network, subnet, router, servers on different computes ACTIVE, each guest's address and answer from its network; then delete it all, printing each step's time",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--image <name>", "Glance image to boot", "hastack-guest")
    .option("--flavor <name>", "flavor to boot", "hastack.tiny")
    .option("--servers <n>", "servers to boot (on different computes while there are enough)", "2")
    .option("--boot-timeout <s>", "seconds a server may take to become ACTIVE and to say its address", "300")
    .option("--keep", "leave what the run created (to look at a failure), and list it")
    .addHelpText(
      "after",
      '\nExit codes: 0 every step that ran passed, 1 a step failed (the rest cleaned up).\nA step that cannot run on the site (a volume without Cinder) is listed as "not run", never as ok.\n',
    )
    .action(async (opts: SmokeOptions) => {
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const secrets = await readSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      const started = performance.now();
      const run = smokeRun((r) => {
        if (!opts.json) process.stdout.write(line(r));
      });
      let failed = false;
      try {
        const deployed = (id: string) =>
          topology.openstack.enabled.includes(id) &&
          services.some((s) => s.id === id && s.state === "implemented");
        const site = await smokeSite(topology, (n) => secrets[n], pool.get, deployed, {
          image: opts.image,
          flavor: opts.flavor,
          servers: Number(opts.servers),
          bootTimeoutMs: Number(opts.bootTimeout) * 1000,
        });
        await runSmoke(site, run).catch(() => {
          failed = true;
        });
        if (opts.keep) process.stdout.write(`kept: ${run.pending().join(", ") || "nothing"}\n`);
        else await run.cleanup();
      } finally {
        await pool.closeAll();
      }
      const seconds = (performance.now() - started) / 1000;
      const counts = { ok: 0, failed: 0, "not-run": 0 };
      for (const r of run.results) counts[r.verdict]++;
      if (counts.failed > 0) failed = true;
      if (opts.json) printJson({ results: run.results, seconds, passed: !failed });
      else
        process.stdout.write(
          `smoke ${failed ? "FAILED" : "passed"} in ${seconds.toFixed(1)} s: ${counts.ok} ok, ${counts.failed} failed, ${counts["not-run"]} not run\n`,
        );
      process.exitCode = failed ? 1 : 0;
    });
}
