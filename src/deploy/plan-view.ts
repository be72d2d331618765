import type { RenderedFile } from "../services/render.ts";
import type { ServiceDef, StepSpec } from "../services/types.ts";
import type { Topology } from "../topology/types.ts";
import type { BuiltinEnv } from "./builtin-steps.ts";
import { buildPlan, type PlanNode } from "./plan.ts";
import { planUnits } from "./plan-units.ts";
import { systemd } from "./restarts.ts";

export interface PlannedStep {
  id: string;
  title: string;
  on: StepSpec["on"];
  /** declared: no check or apply yet; deploy reports it as not implemented, never as ok. */
  state: "implemented" | "declared";
}

/**
 * The steps a deploy would run on each host, in an order the runner could run them: the same
 * graph `deploy` builds (engine steps included), sorted topologically, declaration order
 * breaking ties. Nothing here connects to a host.
 */
export function plannedSteps(
  topology: Topology,
  files: ReadonlyMap<string, RenderedFile[]>,
  services: readonly ServiceDef[],
): Map<string, PlannedStep[]> {
  // Never used: planning creates steps but runs none of them.
  const env: BuiltinEnv = {
    secrets: {},
    emit: () => undefined,
    restarts: undefined as never,
    units: systemd,
  };
  const plan = buildPlan(topology, planUnits({ topology, services, files }, env));
  const done = new Set<string>();
  const ordered: PlanNode[] = [];
  const pending = [...plan.nodes].sort((a, b) => a.order - b.order);
  while (pending.length > 0) {
    const index = pending.findIndex((n) => [...n.deps].every((d) => done.has(d)));
    // buildPlan refuses cycles, so some node is always ready; guard anyway.
    const [next] = pending.splice(index === -1 ? 0 : index, 1);
    if (!next) break;
    done.add(next.key);
    ordered.push(next);
  }
  const byHost = new Map<string, PlannedStep[]>();
  for (const node of ordered) {
    const list = byHost.get(node.host) ?? [];
    const state = node.spec.check || node.spec.apply ? "implemented" : "declared";
    list.push({ id: node.step, title: node.title, on: node.spec.on, state });
    byHost.set(node.host, list);
  }
  return byHost;
}
