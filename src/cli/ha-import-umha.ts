import type { Command } from "commander";
import { planUmhaImport, writeUmhaImport } from "../instance-ha/umha/import.ts";
import { importLines } from "../instance-ha/umha/report.ts";
import { services } from "../services/registry.ts";
import { inventoryOption, inventoryPath } from "./options.ts";

interface ImportOptions {
  inventory: string;
  write?: boolean;
}

/** `ha import-umha`: UMHA's files into the inventory and secrets file, so its users can move over. */
export function registerHaImportUmha(ha: Command): void {
  ha.command("import-umha")
    .description(
      "import UMHA's umha.conf, ipmi_info and node_storage_ip_info: each compute's BMC and storage address, the valve, the debounce and the alert mail; prints what maps, what does not and why (and --write edits the inventory, comments kept, and stores the BMC passwords in the secrets file)",
    )
    .argument("<dir>", "the directory holding UMHA's files (on a controller: /etc/umha)")
    .addOption(inventoryOption())
    .option("--write", "edit the inventory in place and store the passwords (without it: print only)")
    .action(async (dir: string, opts: ImportOptions) => {
      const plan = await planUmhaImport(dir, inventoryPath(opts), services);
      if (opts.write) await writeUmhaImport(plan, services);
      process.stdout.write(`${importLines(plan, opts.write ?? false).join("\n")}\n`);
    });
}
