import { describe, expect, it } from "vitest";
import type { StepSpec } from "../services/types.ts";
import { buildPlan, type PlanNode, type PlanUnit, planGraph } from "./plan.ts";
import { linkedOrder, readyOrder } from "./ready-order.ts";
import { testTopology } from "./test-fixtures.ts";

function node(key: string, order: number, deps: string[]): PlanNode {
  return {
    key,
    step: key,
    service: "s",
    title: key,
    host: "h",
    spec: { id: key, title: key, on: "each" },
    deps: new Set(deps),
    order,
  };
}

/** The scan readyOrder replaced: the first pending node (by order) whose deps are all placed. */
function scanOrder(nodes: readonly PlanNode[]): PlanNode[] {
  const done = new Set<string>();
  const ordered: PlanNode[] = [];
  const pending = [...nodes].sort((a, b) => a.order - b.order);
  while (pending.length > 0) {
    const index = pending.findIndex((n) => [...n.deps].every((d) => done.has(d)));
    const [next] = pending.splice(index === -1 ? 0 : index, 1);
    if (!next) break;
    done.add(next.key);
    ordered.push(next);
  }
  return ordered;
}

function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * Random services: steps of every kind on random hosts, waiting for steps and services declared
 * before or after them (so declaration order alone is not an order), cycles included.
 */
function randomUnits(seed: number, hosts: string[]): PlanUnit[] {
  const random = lcg(seed);
  const kinds: StepSpec["on"][] = ["each", "each", "serial", "bootstrap"];
  const sizes = Array.from({ length: 6 }, () => 1 + Math.floor(random() * 5));
  const steps = sizes.flatMap((n, u) => Array.from({ length: n }, (_, i) => `s${u}.t${i}`));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  return sizes.map((n, u) => {
    const service = `s${u}`;
    const own: PlanUnit["steps"] = Array.from({ length: n }, (_, i) => {
      const id = `${service}.t${i}`;
      const after = random() < 0.3 ? [pick(steps.filter((s) => s !== id))] : undefined;
      return {
        id,
        spec: { id, title: id, on: pick(kinds), ...(after ? { after } : {}) },
        hosts: hosts.filter(() => random() < 0.7),
      };
    });
    const after = random() < 0.4 ? [`s${(u + 1 + Math.floor(random() * 5)) % 6}`] : [];
    return { service, after, steps: own };
  });
}

/** A random DAG in a shuffled declaration order, some nodes waiting on keys outside it. */
function randomNodes(seed: number, count: number): PlanNode[] {
  const random = lcg(seed);
  const orders = Array.from({ length: count }, (_, i) => i).sort(() => random() - 0.5);
  return Array.from({ length: count }, (_, i) => {
    const deps: string[] = [];
    for (let j = 0; j < i; j++) if (random() < 3 / count) deps.push(`n${j}`);
    if (random() < 0.02) deps.push("missing");
    return node(`n${i}`, orders[i] as number, deps);
  });
}

describe("readyOrder", () => {
  it("runs the lowest ready order first, waiting for deps", () => {
    const nodes = [node("c", 0, ["b"]), node("a", 2, []), node("b", 1, ["a"]), node("d", 3, [])];
    expect(readyOrder(nodes).map((n) => n.key)).toEqual(["a", "b", "c", "d"]);
  });

  it("orders exactly as the per-pick scan did, also with deps outside the nodes", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const nodes = randomNodes(seed, 60 + seed * 5);
      expect(readyOrder(nodes).map((n) => n.key)).toEqual(scanOrder(nodes).map((n) => n.key));
    }
  });
});

describe("linkedOrder", () => {
  const hosts = ["ctl1", "ctl2", "ctl3", "cmp1", "cmp2"];
  const topology = testTopology("/tmp", hosts);

  it("orders the graph as readyOrder orders the plan buildPlan makes of it", () => {
    let acyclic = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const units = randomUnits(seed, hosts);
      const linked = linkedOrder(planGraph(topology, units))?.map((n) => n.key);
      let built: string[] | undefined;
      try {
        built = readyOrder(buildPlan(topology, units).nodes).map((n) => n.key);
        acyclic++;
      } catch {
        built = undefined; // a cycle: linkedOrder must give up too
      }
      expect(linked).toEqual(built);
    }
    expect(acyclic).toBeGreaterThan(50);
  });

  it("gives up on a cycle, which buildPlan names", () => {
    const step = (id: string, after: string[]): StepSpec => ({ id, title: id, on: "serial", after });
    const units: PlanUnit[] = [
      { service: "a", after: [], steps: [{ id: "a.x", spec: step("x", ["a.y"]), hosts }] },
      { service: "b", after: [], steps: [{ id: "a.y", spec: step("y", ["a.x"]), hosts }] },
    ];
    expect(linkedOrder(planGraph(topology, units))).toBeUndefined();
    expect(() => buildPlan(topology, units)).toThrow(/cycle/);
  });
});
