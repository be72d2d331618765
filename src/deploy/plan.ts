/**
 * @module
 * The step graph of a deploy: one node per (step, host). Order comes from declared dependencies,
 * never from a script: a service's steps follow each other, `after` links steps across services,
 * and the runner starts whatever is ready.
 *
 * Waiting rule between two steps A then B: when both are `each` steps, B on a host waits only for A
 * on that host (hosts pipeline independently); in every other case B waits for A on every host,
 * because bootstrap/serial steps are cluster operations that need the whole cluster ready.
 */
import type { StepSpec } from "../services/types.ts";
import type { Topology } from "../topology/types.ts";
import { HastackError } from "../util/errors.ts";

export interface PlanUnitStep {
  /** Qualified id, `<service>.<step>`. */
  id: string;
  spec: StepSpec;
  /** Hosts the step would run on (before `on` picks the bootstrap node). */
  hosts: string[];
}

/** A service (or the engine's own host preparation) as the planner sees it. */
export interface PlanUnit {
  service: string;
  after: string[];
  steps: PlanUnitStep[];
}

export interface PlanNode {
  key: string;
  step: string;
  service: string;
  title: string;
  host: string;
  spec: StepSpec;
  deps: Set<string>;
  /** Position in declaration order; the runner prefers lower ones when several are ready. */
  order: number;
}

export interface Plan {
  nodes: PlanNode[];
  byKey: Map<string, PlanNode>;
}

export function nodeKey(step: string, host: string): string {
  return `${step}@${host}`;
}

/** The nodes of one step, one per host it runs on. */
export interface PlanGroup {
  id: string;
  on: StepSpec["on"];
  nodes: Map<string, string>;
}

/**
 * Every node of `b` waits for `a`: for a's node on the same host when both are `each` steps and a
 * has one, else for every node of a.
 */
export interface PlanLink {
  b: PlanGroup;
  a: PlanGroup;
}

/**
 * The step graph before its links are spelled out as deps: nodes (deps hold only the serial
 * chains) and the links in the order buildPlan applies them. `hastack plan` orders this form
 * directly: spelled out, a serial step on every host waits for every node of the step before it,
 * 200 million deps for 5,000 computes.
 */
export interface PlanGraph {
  nodes: Map<string, PlanNode>;
  links: PlanLink[];
}

export function qualify(service: string, id: string): string {
  return id.startsWith(`${service}.`) ? id : `${service}.${id}`;
}

export function buildPlan(topology: Topology, units: readonly PlanUnit[], limit?: readonly string[]): Plan {
  const { nodes, links } = planGraph(topology, units);
  for (const { b, a } of links) {
    for (const [host, key] of b.nodes) {
      const deps = nodes.get(key)?.deps;
      if (!deps) continue;
      const same = a.nodes.get(host);
      if (a.on === "each" && b.on === "each" && same) deps.add(same);
      else for (const k of a.nodes.values()) deps.add(k);
    }
  }
  checkAcyclic(nodes);
  const all = [...nodes.values()].sort((x, y) => x.order - y.order);
  const kept = limit ? all.filter((n) => limit.includes(n.host)) : all;
  if (limit) contractDeps(nodes, new Set(kept.map((n) => n.key)));
  return { nodes: kept, byKey: new Map(kept.map((n) => [n.key, n])) };
}

/** The nodes and links of buildPlan, links not applied, cycles not looked for. */
export function planGraph(topology: Topology, units: readonly PlanUnit[]): PlanGraph {
  const nodes = new Map<string, PlanNode>();
  const groups = new Map<string, PlanGroup>();
  const unitGroups = new Map<string, PlanGroup[]>();
  let order = 0;
  for (const unit of units) {
    const list: PlanGroup[] = [];
    for (const s of unit.steps) {
      if (groups.has(s.id)) throw new HastackError("E_PLAN_DUPLICATE", `Step ${s.id} is declared twice`);
      const hosts = s.spec.on === "bootstrap" ? [topology.bootstrap] : s.hosts;
      const group: PlanGroup = { id: s.id, on: s.spec.on, nodes: new Map() };
      let previous: string | undefined;
      for (const host of hosts) {
        const key = nodeKey(s.id, host);
        const deps = new Set<string>();
        // serial: one host at a time, in inventory order.
        if (s.spec.on === "serial" && previous) deps.add(previous);
        nodes.set(key, {
          key,
          step: s.id,
          service: unit.service,
          title: s.spec.title,
          host,
          spec: s.spec,
          deps,
          order: order++,
        });
        group.nodes.set(host, key);
        previous = key;
      }
      groups.set(s.id, group);
      list.push(group);
    }
    unitGroups.set(unit.service, list);
  }

  const links: PlanLink[] = [];
  const link = (b: PlanGroup, a: PlanGroup) => links.push({ b, a });
  // A step's `after` prefers a step of its own service; a service's `after` names services. So
  // glance's step "keystone" and the service keystone never get confused.
  const resolve = (unit: PlanUnit, ref: string, from: string, kind: "step" | "service"): PlanGroup[] => {
    const service = unitGroups.get(ref);
    if (kind === "service" && service) return service;
    const step = groups.get(qualify(unit.service, ref)) ?? groups.get(ref);
    if (step) return [step];
    if (service) return service;
    throw new HastackError(
      "E_PLAN_UNKNOWN_STEP",
      `${from} waits for ${ref}, which is neither a step nor a service`,
    );
  };

  for (const unit of units) {
    const list = unitGroups.get(unit.service) ?? [];
    const first = list[0];
    if (first) {
      for (const ref of unit.after) {
        const deps = resolve(unit, ref, unit.service, "service");
        // Waiting for a service means waiting for its last step (its steps are already chained).
        const last = deps.at(-1);
        if (last && deps.length > 1) link(first, last);
        else for (const d of deps) link(first, d);
      }
    }
    list.forEach((group, i) => {
      const prev = list[i - 1];
      if (prev) link(group, prev);
      const spec = unit.steps[i]?.spec;
      for (const ref of spec?.after ?? [])
        for (const d of resolve(unit, ref, group.id, "step")) link(group, d);
    });
  }
  return { nodes, links };
}

/**
 * With --limit, a kept node that waited on a dropped one now waits on whatever the dropped one
 * waited on, so a serial chain stays serial across the gap.
 */
function contractDeps(nodes: Map<string, PlanNode>, kept: Set<string>): void {
  const memo = new Map<string, Set<string>>();
  const keptDeps = (key: string): Set<string> => {
    const cached = memo.get(key);
    if (cached) return cached;
    const out = new Set<string>();
    memo.set(key, out);
    for (const d of nodes.get(key)?.deps ?? []) {
      if (kept.has(d)) out.add(d);
      else for (const k of keptDeps(d)) out.add(k);
    }
    return out;
  };
  for (const key of kept) {
    const node = nodes.get(key);
    if (node) node.deps = new Set(keptDeps(key));
  }
}

function checkAcyclic(nodes: Map<string, PlanNode>): void {
  const state = new Map<string, 1 | 2>();
  const visit = (key: string, path: string[]) => {
    const s = state.get(key);
    if (s === 2) return;
    if (s === 1) {
      const cycle = [...path.slice(path.indexOf(key)), key];
      throw new HastackError("E_PLAN_CYCLE", `Steps wait for each other in a cycle: ${cycle.join(" -> ")}`);
    }
    state.set(key, 1);
    for (const d of nodes.get(key)?.deps ?? []) visit(d, [...path, key]);
    state.set(key, 2);
  };
  for (const key of nodes.keys()) visit(key, []);
}
