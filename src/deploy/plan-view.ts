import type { RenderedFile } from "../services/render.ts";
import type { ServiceDef, StepSpec } from "../services/types.ts";
import type { Topology } from "../topology/types.ts";
import type { BuiltinEnv } from "./builtin-steps.ts";
import { buildPlan, planGraph } from "./plan.ts";
import { planUnits } from "./plan-units.ts";
import { linkedOrder, readyOrder } from "./ready-order.ts";
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
  const units = planUnits({ topology, services, files }, env);
  // The graph as buildPlan makes it, ordered before its links become deps (200 million for
  // 5,000 computes). Ordering stops at a cycle: buildPlan then refuses it, naming the steps.
  const ordered = linkedOrder(planGraph(topology, units)) ?? readyOrder(buildPlan(topology, units).nodes);
  const byHost = new Map<string, PlannedStep[]>();
  for (const node of ordered) {
    const list = byHost.get(node.host) ?? [];
    const state = node.spec.check || node.spec.apply ? "implemented" : "declared";
    list.push({ id: node.step, title: node.title, on: node.spec.on, state });
    byHost.set(node.host, list);
  }
  return byHost;
}
