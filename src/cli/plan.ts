import type { Command } from "commander";
import { type PlannedStep, plannedSteps } from "../deploy/plan-view.ts";
import { renderTopology } from "../services/render.ts";
import { loadTopology } from "../topology/load.ts";
import type { Topology } from "../topology/types.ts";
import { requireKnownNames } from "../util/names.ts";
import { inventoryOption, jsonOption, printJson } from "./options.ts";

interface HostPlan {
  host: string;
  roles: string[];
  files: { path: string; service: string; owner: string; group: string; mode: string; bytes: number }[];
  steps: PlannedStep[];
}

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description("print, per host, the files and the ordered steps a deploy would run")
    .addOption(inventoryOption())
    .option("--host <name...>", "only these hosts")
    .addOption(jsonOption())
    .action(async (opts: { inventory: string; host?: string[]; json?: boolean }) => {
      const topology = await loadTopology(opts.inventory);
      requireKnownNames(
        "--host",
        opts.host,
        topology.hosts.map((h) => h.name),
        "hosts of the inventory",
      );
      const plans = planHosts(topology, opts.host);
      if (opts.json) {
        printJson(plans);
        return;
      }
      for (const plan of plans) {
        process.stdout.write(`${plan.host} (${plan.roles.join(", ")})\n  files:\n`);
        for (const f of plan.files) {
          process.stdout.write(
            `    ${f.mode} ${`${f.owner}:${f.group}`.padEnd(18)} ${f.path}  [${f.service}]\n`,
          );
        }
        process.stdout.write("  steps:\n");
        for (const [i, s] of plan.steps.entries()) {
          process.stdout.write(
            `    ${String(i + 1).padStart(3)}. ${s.id.padEnd(32)} ${s.on.padEnd(9)} ${s.title}${s.placeholder ? "  (not implemented yet: skipped)" : ""}\n`,
          );
        }
      }
    });
}

export function planHosts(topology: Topology, only?: readonly string[]): HostPlan[] {
  const { files } = renderTopology(topology);
  const steps = plannedSteps(topology, files);
  return topology.hosts
    .filter((host) => !only || only.includes(host.name))
    .map((host) => ({
      host: host.name,
      roles: host.roles,
      files: (files.get(host.name) ?? []).map((f) => ({
        path: f.path,
        service: f.service,
        owner: f.owner,
        group: f.group,
        mode: f.mode.toString(8).padStart(4, "0"),
        bytes: Buffer.byteLength(f.text),
      })),
      steps: steps.get(host.name) ?? [],
    }));
}
