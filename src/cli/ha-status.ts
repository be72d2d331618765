import type { Command } from "commander";
import { readStatus, statusLines } from "../instance-ha/status-report.ts";
import { openStore, type Store } from "../instance-ha/store.ts";
import { siteStoreOptions } from "../instance-ha/store-site.ts";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { hostsWithRole, type Topology } from "../topology/types.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface StatusOptions {
  inventory: string;
  json?: boolean;
}

/** `ha status`: each compute's phase, episode and evacuations, and the gates' latest verdicts. */
export function registerHaStatus(ha: Command): void {
  ha.command("status")
    .description(
      "what the instance-HA engine knows, from its history database: each compute's phase and since when, its episode and evacuations VM by VM, the latest gate decisions, and whether it runs dry",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (opts: StatusOptions) => {
      const { topology, store } = await openSiteStore(opts);
      try {
        const computes = hostsWithRole(topology, "compute").map((h) => h.name);
        const status = await readStatus(store, computes, new Date());
        if (opts.json) printJson(status);
        else process.stdout.write(`${statusLines(status).join("\n")}\n`);
      } finally {
        await store.close();
      }
    });
}

/**
 * The site's history store opened for reading: a database without the engine's tables is an
 * error (the engine never ran), never created by a command that only looks. `check` runs on the
 * topology before any secret is read or connection made (a --host that is no compute).
 */
export async function openSiteStore(
  opts: { inventory: string },
  check: (topology: Topology) => void = () => undefined,
): Promise<{ topology: Topology; store: Store }> {
  const file = inventoryPath(opts);
  await enterLabNamespaceIfNeeded(file);
  const topology = await loadTopology(file, services);
  check(topology);
  const secrets = await readSecrets(topology.secretsFile);
  const store = await openStore({ ...siteStoreOptions(topology, secrets), create: false });
  return { topology, store };
}
