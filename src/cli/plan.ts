import type { Command } from "commander";
import { services } from "../services/registry.ts";
import { renderTopology } from "../services/render.ts";
import type { StepSpec } from "../services/types.ts";
import { loadTopology } from "../topology/load.ts";
import type { Topology } from "../topology/types.ts";
import { inventoryOption, jsonOption, printJson } from "./options.ts";

interface HostPlan {
  host: string;
  roles: string[];
  files: { path: string; service: string; owner: string; group: string; mode: string; bytes: number }[];
  steps: { id: string; title: string; on: StepSpec["on"] }[];
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
            `    ${String(i + 1).padStart(3)}. ${s.id.padEnd(32)} ${s.on.padEnd(9)} ${s.title}\n`,
          );
        }
      }
    });
}

export function planHosts(topology: Topology, only?: readonly string[]): HostPlan[] {
  const { files } = renderTopology(topology, only);
  const plans: HostPlan[] = [];
  for (const host of topology.hosts) {
    if (only && !only.includes(host.name)) continue;
    const steps: HostPlan["steps"] = [];
    for (const service of services) {
      const serviceHosts = service.hosts(topology);
      for (const step of service.steps?.(topology) ?? []) {
        const stepHosts = step.on === "bootstrap" ? [topology.bootstrap] : (step.hosts ?? serviceHosts);
        if (stepHosts.includes(host.name)) steps.push({ id: step.id, title: step.title, on: step.on });
      }
    }
    plans.push({
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
      steps,
    });
  }
  return plans;
}
