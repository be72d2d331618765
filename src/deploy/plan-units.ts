/**
 * @module
 * From the registry to planner input: the engine's own steps (host packages, each service's files
 * and restarts) placed among the steps services declare.
 */

import { isDeployed } from "../services/deployable.ts";
import type { RenderedFile } from "../services/render.ts";
import type { ServiceDef, StepSpec } from "../services/types.ts";
import { hostByName, type ResolvedHost, type Topology } from "../topology/types.ts";
import { HastackError } from "../util/errors.ts";
import { type BuiltinEnv, filesStep, packagesStep, restartStep } from "./builtin-steps.ts";
import type { PlanUnit } from "./plan.ts";
import { qualify } from "./plan.ts";

export interface UnitsInput {
  topology: Topology;
  services: readonly ServiceDef[];
  files: ReadonlyMap<string, RenderedFile[]>;
}

export function planUnits(input: UnitsInput, env: BuiltinEnv): PlanUnit[] {
  const { topology } = input;
  // Declared services are not planned: plan, deploy and status name them as not implemented.
  const deployed = input.services.filter((s) => isDeployed(s, topology));
  const ids = new Set(deployed.map((s) => s.id));
  // Each service's hosts and each host by name once: both walk every host of the site, and
  // asking them per host made planning quadratic (minutes for 5,000 computes).
  const placed = deployed.map((s) => ({ service: s, hosts: new Set(s.hosts(topology)) }));
  const byName = new Map(topology.hosts.map((h) => [h.name, h]));
  const packagesOf = (host: string) => {
    const resolved = byName.get(host) ?? hostByName(topology, host);
    const on = placed.filter((p) => p.hosts.has(host)).map((p) => p.service);
    return [...new Set(on.flatMap((s) => hostPackages(s, topology, resolved)))].sort();
  };
  const allHosts = topology.hosts.map((h) => h.name).filter((h) => placed.some((p) => p.hosts.has(h)));
  const out: PlanUnit[] = [];
  const withPackages = allHosts.some((h) => packagesOf(h).length > 0);
  if (withPackages)
    out.push({
      service: "host",
      after: [],
      steps: [{ id: "host.packages", spec: packagesStep(packagesOf), hosts: allHosts }],
    });
  // Every host's files by service, in one pass over them (55,000 files for 5,000 computes).
  const filesOf = new Map<string, RenderedFile[]>();
  for (const list of input.files.values()) {
    for (const f of list) {
      const same = filesOf.get(f.service);
      if (same) same.push(f);
      else filesOf.set(f.service, [f]);
    }
  }
  for (const svc of deployed) {
    const hosts = svc.hosts(topology);
    const files = filesOf.get(svc.id) ?? [];
    const builtins: PlanUnit["steps"] = [];
    if (files.length > 0)
      builtins.push({ id: `${svc.id}.files`, spec: filesStep(svc.id, input.files, env), hosts });
    if (files.some((f) => (f.onChange.restart?.length ?? 0) + (f.onChange.reload?.length ?? 0) > 0)) {
      builtins.push({ id: `${svc.id}.restart`, spec: restartStep(svc.id, env), hosts });
    }
    const steps = placeBuiltins(svc.id, builtins, svc.steps?.(topology, input.services) ?? [], hosts);
    const after = [...(withPackages ? ["host"] : []), ...orderedAfter(svc, input.services, ids)];
    out.push({ service: svc.id, after, steps });
  }
  return out;
}

/**
 * The engine's files/restart steps go first, unless the service declares a step with the same id
 * and no check/apply: that one is a placeholder saying where they go (say, after a `packages`
 * step), and they take its place, title and `after`.
 */
function placeBuiltins(
  service: string,
  builtins: PlanUnit["steps"],
  declared: readonly StepSpec[],
  hosts: string[],
): PlanUnit["steps"] {
  const out: PlanUnit["steps"] = [];
  const placed = new Set<string>();
  for (const spec of declared) {
    const id = qualify(service, spec.id);
    const builtin = builtins.find((b) => b.id === id);
    if (builtin && (spec.check || spec.apply)) {
      throw new HastackError(
        "E_PLAN_DUPLICATE",
        `Step ${id} is declared by ${service} and also made by the engine from its files`,
        {
          hint: `rename ${service}'s step, or drop its check/apply so it only marks where the engine's step goes`,
        },
      );
    }
    if (builtin) {
      out.push({
        ...builtin,
        spec: { ...builtin.spec, title: spec.title, ...(spec.after ? { after: spec.after } : {}) },
      });
      placed.add(id);
      // The restart step follows the files step wherever that goes.
      const restart = builtins.find(
        (b) => b.id === `${service}.restart` && !placed.has(b.id) && id === `${service}.files`,
      );
      if (restart) {
        out.push(restart);
        placed.add(restart.id);
      }
      continue;
    }
    out.push({ id, spec, hosts: spec.hosts ?? hosts });
  }
  return [...builtins.filter((b) => !placed.has(b.id)), ...out];
}

/** What a service installs on a host: its components for the host's roles, and its extra packages. */
export function hostPackages(service: ServiceDef, topology: Topology, host: ResolvedHost): string[] {
  const parts = (service.components ?? []).filter((c) => host.roles.includes(c.role));
  return [...parts.flatMap((c) => c.packages), ...(service.packages?.(topology, host) ?? [])];
}

/**
 * The deployed services `service` waits for. `after` is a graph: when a service it names is not
 * deployed here (disabled, declared), it waits for what that one would have waited for, so
 * dropping a service never drops the order between the others.
 */
export function orderedAfter(
  service: ServiceDef,
  all: readonly ServiceDef[],
  deployed: ReadonlySet<string>,
): string[] {
  const byId = new Map(all.map((s) => [s.id, s]));
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    if (deployed.has(id)) out.add(id);
    else for (const next of byId.get(id)?.after ?? []) visit(next);
  };
  for (const id of service.after ?? []) visit(id);
  return [...out];
}
