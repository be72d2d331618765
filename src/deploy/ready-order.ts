import type { PlanGraph, PlanGroup, PlanNode } from "./plan.ts";

/**
 * @module
 * The order a runner could run a plan's nodes in: each time, the lowest `order` among the nodes
 * whose deps are all placed. Kahn's algorithm with a min-heap on `order`; a scan of every pending
 * node per pick was quadratic (11 s of `hastack plan` for 1,000 computes; the whole cloud has
 * ~90,000 nodes at 5,000).
 */

/** A built plan's nodes; when none is ready (a dep outside `nodes`), the lowest pending one. */
export function readyOrder(nodes: readonly PlanNode[]): PlanNode[] {
  const sorted = [...nodes].sort((a, b) => a.order - b.order);
  const rank = new Map(sorted.map((n, i) => [n.key, i]));
  const waiting = sorted.map((n) => n.deps.size);
  const dependents: number[][] = sorted.map(() => []);
  for (const [i, node] of sorted.entries()) {
    for (const dep of node.deps) {
      const r = rank.get(dep);
      if (r !== undefined) dependents[r]?.push(i);
    }
  }
  const order = kahn(sorted.length, waiting, dependents, "lowest") ?? [];
  return order.map((i) => sorted[i] as PlanNode);
}

/**
 * The same order from the graph before buildPlan spells its links out as deps: a node that waits
 * for every node of a step waits for one gate, which opens when that step's last node is placed.
 * Undefined when nodes wait for each other in a cycle (buildPlan then says where).
 */
export function linkedOrder(graph: PlanGraph): PlanNode[] | undefined {
  const sorted = [...graph.nodes.values()].sort((a, b) => a.order - b.order);
  const rank = new Map(sorted.map((n, i) => [n.key, i]));
  const waiting = sorted.map((n) => n.deps.size);
  const dependents: number[][] = sorted.map(() => []);
  const edge = (from: number, to: number) => {
    dependents[from]?.push(to);
    waiting[to] = (waiting[to] ?? 0) + 1;
  };
  for (const [i, node] of sorted.entries())
    for (const dep of node.deps) dependents[rank.get(dep) as number]?.push(i);
  // One gate per step waited for as a whole, after the nodes: item sorted.length + n.
  const gates = new Map<PlanGroup, number>();
  const gateOf = (step: PlanGroup): number => {
    let gate = gates.get(step);
    if (gate === undefined) {
      gate = waiting.length;
      gates.set(step, gate);
      waiting.push(0);
      dependents.push([]);
      for (const key of step.nodes.values()) edge(rank.get(key) as number, gate);
    }
    return gate;
  };
  for (const { b, a } of graph.links) {
    for (const [host, key] of b.nodes) {
      const node = rank.get(key) as number;
      const same = a.nodes.get(host);
      if (a.on === "each" && b.on === "each" && same) edge(rank.get(same) as number, node);
      else edge(gateOf(a), node);
    }
  }
  return kahn(sorted.length, waiting, dependents, "stop")?.map((i) => sorted[i] as PlanNode);
}

/**
 * Items below `count` are nodes ranked by order: the lowest ready one is placed next. Items from
 * `count` on are gates: open (placed, not listed) as soon as ready. When nothing is ready, "lowest"
 * places the lowest pending node anyway and "stop" gives up.
 */
function kahn(
  count: number,
  waiting: number[],
  dependents: number[][],
  stalled: "lowest" | "stop",
): number[] | undefined {
  const placed = new Uint8Array(waiting.length);
  const ready: number[] = [];
  const place = (first: number) => {
    placed[first] = 1;
    const stack = [first];
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      for (const d of dependents[item] ?? []) {
        const left = (waiting[d] ?? 0) - 1;
        waiting[d] = left;
        if (left !== 0 || placed[d]) continue;
        if (d < count) heapPush(ready, d);
        else {
          placed[d] = 1;
          stack.push(d);
        }
      }
    }
  };
  for (let i = 0; i < count; i++) if (waiting[i] === 0) heapPush(ready, i);
  for (let gate = count; gate < waiting.length; gate++) if (waiting[gate] === 0 && !placed[gate]) place(gate);
  const out: number[] = [];
  let lowest = 0; // every node below it is placed
  while (out.length < count) {
    let next = heapPop(ready);
    while (next !== undefined && placed[next]) next = heapPop(ready);
    if (next === undefined) {
      if (stalled === "stop") return undefined;
      while (placed[lowest]) lowest++;
      next = lowest;
    }
    out.push(next);
    place(next);
  }
  return out;
}

/** Binary min-heap of ranks, on a plain array. */
function heapPush(items: number[], value: number): void {
  let i = items.push(value) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((items[parent] as number) <= value) break;
    items[i] = items[parent] as number;
    i = parent;
  }
  items[i] = value;
}

function heapPop(items: number[]): number | undefined {
  const top = items[0];
  const last = items.pop();
  if (items.length === 0 || last === undefined) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= items.length) break;
    const right = left + 1;
    const child = right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
    if ((items[child] as number) >= last) break;
    items[i] = items[child] as number;
    i = child;
  }
  items[i] = last;
  return top;
}
