import { type Command, InvalidArgumentError } from "commander";
import type { DeployCommandOptions } from "../deploy/command.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { services } from "../services/registry.ts";
import { inventoryOption, inventoryPath, jsonOption } from "./options.ts";

type Options = DeployCommandOptions & { inventory: string };

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number >= 1");
  return n;
}

/** Repeatable and comma-separated: --limit ctl1 --limit ctl2,ctl3 */
function hostList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").filter((h) => h !== "")];
}

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description(
      "deploy the inventory to its hosts over SSH: only what differs changes; journaled, resumable",
    )
    .addOption(inventoryOption())
    .option("--limit <host>", "only these hosts (repeat or comma-separate)", hostList)
    .option(
      "--dry-run",
      "connect and read only: print file diffs (secrets masked) and the steps that would act",
    )
    .option("--resume", "continue the last failed run without redoing its finished steps")
    .addOption(jsonOption())
    .option(
      "--trust-new-host-keys",
      "accept and record unknown host keys (first contact); changed keys are still refused",
    )
    .option(
      "--concurrency <n>",
      "steps and checks running at once (checks share a host, applies have it alone)",
      positiveInt,
      16,
    )
    .option("--quiet", "print only failures, diffs and the summary")
    .action(async (opts: Options) => {
      const file = inventoryPath(opts);
      // Re-execs inside the lab's network namespace when the inventory is the lab's.
      await enterLabNamespaceIfNeeded(file);
      const { runDeployCommand } = await import("../deploy/command.ts");
      process.exitCode = await runDeployCommand(file, services, opts);
    });
}
