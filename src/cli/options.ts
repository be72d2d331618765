import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { services } from "../services/registry.ts";
import { loadSite, type Site } from "../topology/load.ts";
import { requireKnownNames } from "../util/names.ts";

/** Every verb that reads an inventory takes -i; HASTACK_INVENTORY or ./inventory.yaml otherwise. */
export function inventoryOption(): Option {
  return new Option("-i, --inventory <file>", "inventory file")
    .env("HASTACK_INVENTORY")
    .default("inventory.yaml");
}

export function jsonOption(): Option {
  return new Option("--json", "machine-readable output");
}

export function inventoryPath(command: Command | { inventory: string }): string {
  const opts = "opts" in command ? (command.opts() as { inventory: string }) : command;
  return resolve(opts.inventory);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The site of an inventory, refusing `--host` names it does not have (plan, render). */
export async function loadForHosts(inventory: string, hosts: string[] | undefined): Promise<Site> {
  const site = await loadSite(inventory, services);
  requireKnownNames(
    "--host",
    hosts,
    site.topology.hosts.map((h) => h.name),
    "hosts of the inventory",
  );
  return site;
}
