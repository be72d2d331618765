/**
 * @module
 * `hastack deploy` behind the CLI wiring: load, render, connect, run, report, exit code.
 */
import { readSecrets } from "../inventory/secrets-file.ts";
import { renderTopology } from "../services/render.ts";
import type { ServiceDef } from "../services/types.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import type { Transport } from "../transport/types.ts";
import { deploy } from "./deploy.ts";
import { listrReporter } from "./listr-reporter.ts";
import { jsonReporter, plainReporter, type Reporter } from "./reporter.ts";

export interface DeployCommandOptions {
  limit?: string[];
  dryRun?: boolean;
  resume?: boolean;
  json?: boolean;
  trustNewHostKeys?: boolean;
  concurrency?: number;
  quiet?: boolean;
}

function pickReporter(opts: DeployCommandOptions): Reporter {
  if (opts.json) return jsonReporter();
  if (process.stdout.isTTY && !opts.quiet) return listrReporter();
  return plainReporter(process.stdout, { quiet: opts.quiet ?? false });
}

/** Returns the process exit code: 0 when every step finished, 1 otherwise. */
export async function runDeployCommand(
  inventoryPath: string,
  services: readonly ServiceDef[],
  opts: DeployCommandOptions,
): Promise<number> {
  const topology = await loadTopology(inventoryPath, services);
  const { files } = renderTopology(topology, services);
  const secrets = await readSecrets(topology.secretsFile);
  const pool = sshPool(topology, { trustNewHostKeys: opts.trustNewHostKeys ?? false });
  const transports = new Map<string, Transport>(topology.hosts.map((h) => [h.name, pool.get(h.name)]));
  const reporter = pickReporter(opts);
  try {
    const result = await deploy(
      { topology, services, files, secrets, transports, inventoryPath },
      {
        reporter,
        dryRun: opts.dryRun ?? false,
        resume: opts.resume ?? false,
        ...(opts.limit ? { limit: opts.limit } : {}),
        ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      },
    );
    await reporter.close();
    if (result.status === "failed" && !opts.json) {
      process.stderr.write(
        `deploy ${result.runId} failed; fix the cause, then: hastack deploy -i ${inventoryPath} --resume\n`,
      );
    }
    return result.status === "ok" ? 0 : 1;
  } finally {
    await pool.closeAll();
  }
}
