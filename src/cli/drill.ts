import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import type { Command } from "commander";
import { collectStatus } from "../health/engine.ts";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded, inLabNamespace } from "../lab/netns.ts";
import { drillById, drills } from "../ops/drills/catalog.ts";
import { labInjector } from "../ops/drills/lab-injector.ts";
import { realInjector } from "../ops/drills/real-injector.ts";
import { formatDrillReport, runDrill } from "../ops/drills/runner.ts";
import { services } from "../services/registry.ts";
import { renderTopology } from "../services/render.ts";
import { loadTopology } from "../topology/load.ts";
import type { Topology } from "../topology/types.ts";
import { sshPool, type TransportPool } from "../transport/pool.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface DrillOptions {
  inventory: string;
  json?: boolean;
  yes?: boolean;
  healthyTimeout: string;
}

export function registerDrill(program: Command): void {
  program
    .command("drill")
    .argument("<name>", `one of: ${drills.map((d) => d.id).join(", ")}`)
    .description(
      "inject a fault, measure the downtime every 50 ms, restore, and wait for health; " +
        "exit 0 passed, 3 slow (safe, over budget), 2 unsafe, 1 failed",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("-y, --yes", "do not ask before breaking real hosts")
    .option(
      "--healthy-timeout <seconds>",
      "how long to wait for a healthy site before the fault (then refuse) and after it",
      "600",
    )
    .action(async (name: string, opts: DrillOptions) => {
      const drill = drillById(name);
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const secrets = await readSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      try {
        const lab = await inLabNamespace();
        if (!lab) await confirm(drill.title, topology.cluster, opts.yes ?? false);
        const injector = lab
          ? await labInjector(topology, pool, secrets)
          : realInjector(topology, pool, secrets);
        const log = (line: string) => {
          if (!opts.json) process.stderr.write(`${line}\n`);
        };
        const timeoutMs = Number(opts.healthyTimeout) * 1000;
        const status = () => collectStatus(topology, { transport: pool.get, secrets, services });
        const report = await runDrill(
          drill,
          {
            topology,
            pool,
            secrets,
            injector,
            log,
            deploy: () => deployFor(file, topology, pool, secrets, log),
          },
          {
            healthyBefore: () => waitHealthy(status, timeoutMs, log, drill.id),
            waitHealthy: () => waitHealthy(status, timeoutMs, log),
          },
        );
        if (opts.json) printJson(report);
        else process.stdout.write(formatDrillReport(report));
        process.exitCode = report.exitCode;
      } finally {
        await pool.closeAll();
      }
    });
}

/** `hastack deploy` of the drill's inventory over the drill's connections, its lines in the drill's log. */
async function deployFor(
  inventoryPath: string,
  topology: Topology,
  pool: TransportPool,
  secrets: Readonly<Record<string, string>>,
  log: (line: string) => void,
): Promise<{ ok: boolean; runId: string }> {
  // Loaded when a drill deploys, as `hastack deploy` loads them: not at every CLI start.
  const { deploy } = await import("../deploy/deploy.ts");
  const { plainReporter } = await import("../deploy/reporter.ts");
  const { files } = renderTopology(topology, services);
  const transports = new Map<string, Transport>(topology.hosts.map((h) => [h.name, pool.get(h.name)]));
  let pending = "";
  const out = new Writable({
    write(chunk, _encoding, done) {
      pending += String(chunk);
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) log(`  deploy: ${line}`);
      done();
    },
  });
  const result = await deploy(
    { topology, services, files, secrets: { ...secrets }, transports, inventoryPath },
    { reporter: plainReporter(out, { quiet: true }), dryRun: false, resume: false },
  );
  return { ok: result.status === "ok", runId: result.runId };
}

/** Waits for `status` to say healthy; `before`: the drill's id, when no fault is injected yet. */
async function waitHealthy(
  status: () => ReturnType<typeof collectStatus>,
  timeoutMs: number,
  log: (line: string) => void,
  before?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const report = await status();
    if (report.verdict === "healthy") return;
    if (report.headline !== last) log(`waiting for health: ${report.headline}`);
    last = report.headline;
    await new Promise((r) => setTimeout(r, 3000));
  }
  if (before)
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot start drill ${before}: the site is not healthy (waited ${timeoutMs / 1000} s): ${last}`,
      { hint: "run `hastack status`, make the site healthy, then run the drill again" },
    );
  throw new HastackError(
    "E_DRILL_UNHEALTHY",
    `the site is not healthy ${timeoutMs / 1000} s after the drill: ${last}`,
  );
}

async function confirm(title: string, cluster: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new HastackError(
      "E_DRILL_CONFIRM",
      `Cannot run a drill on the real cluster ${cluster} without confirmation`,
      {
        hint: "pass --yes when you mean it",
      },
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `This breaks the real cluster ${cluster}: ${title}. Type the cluster name to go on: `,
  );
  rl.close();
  if (answer.trim() !== cluster) throw new HastackError("E_DRILL_CONFIRM", "Drill cancelled");
}
