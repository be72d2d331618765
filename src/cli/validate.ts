import type { Command } from "commander";
import { services } from "../services/registry.ts";
import { validateInventory } from "../topology/load.ts";
import { inventoryOption, jsonOption, printJson } from "./options.ts";
import { formatProblems, sortProblems } from "./problems.ts";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description(
      "check an inventory: YAML, schema, addresses, quorum, ports, overrides; all problems at once",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (opts: { inventory: string; json?: boolean }) => {
      const result = await validateInventory(opts.inventory, services);
      const errors = result.problems.filter((p) => p.severity === "error");
      process.exitCode = errors.length > 0 ? 1 : 0;
      if (opts.json) {
        printJson({
          valid: errors.length === 0,
          problems: sortProblems(result.problems).map((p) => ({ ...p.pos, ...p, pos: undefined })),
        });
        return;
      }
      if (result.problems.length > 0) process.stderr.write(`${formatProblems(result.problems)}\n`);
      if (errors.length > 0 || !result.topology) return;
      const t = result.topology;
      const files = [...(result.render?.files.values() ?? [])].reduce((n, list) => n + list.length, 0);
      process.stdout.write(
        `${opts.inventory}: valid: cluster ${t.cluster}, ${t.hosts.length} hosts (${t.roles.controller.length} controllers, ` +
          `${t.roles.compute.length} computes, ${t.roles.storage.length} storage), ${files} files to render\n`,
      );
    });
}
