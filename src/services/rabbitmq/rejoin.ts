/**
 * @module
 * Nodes that run apart from the cluster, and how they are brought into it. Two cases meet here:
 * a node that came up as a cluster of its own on a first deploy (it missed the others' start),
 * and a controller reinstalled after its disk died, whose new, empty node has the name the
 * cluster still lists as a stopped member. The second is forgotten first
 * (`forget_cluster_node`), which also takes its members out of every quorum queue; the queues
 * get a member on it again once it has joined (replicas.ts).
 */
import { HastackError } from "../../util/errors.ts";
import { lastLine } from "../../util/text.ts";
import type { StepContext } from "../types.ts";

/** What one controller's node says of its cluster. */
export interface NodeView {
  host: string;
  /** Nodes running in the cluster this node is in; [] when it does not answer. */
  running: string[];
  /** Every node that cluster lists, running or not. */
  members: string[];
}

export interface StrayJoin {
  host: string;
  /** The running node of the main cluster it joins. */
  seed: string;
  /** The main cluster lists its node as a stopped member: a node this one replaces. */
  forget: boolean;
}

export function nodeName(host: string): string {
  return `rabbit@${host}`;
}

/**
 * The main cluster is the one with the most running nodes (the first in inventory order on a
 * tie); a node that runs alone outside it joins it. A node that does not answer, or runs with
 * others, is left alone: two clusters of several nodes each are a split for an operator.
 */
export function strayJoins(views: readonly NodeView[]): StrayJoin[] {
  const main = views.reduce<NodeView | undefined>(
    (best, v) => (best === undefined || v.running.length > best.running.length ? v : best),
    undefined,
  );
  const seedNode = main?.running[0];
  if (!main || !seedNode) return [];
  const seed = seedNode.replace(/^rabbit@/, "");
  const joins: StrayJoin[] = [];
  for (const v of views) {
    const node = nodeName(v.host);
    if (main.running.includes(node)) continue;
    if (v.running.length !== 1 || v.running[0] !== node) continue;
    joins.push({ host: v.host, seed, forget: main.members.includes(node) });
  }
  return joins;
}

/**
 * stop_app, forget (on the seed, while this node's app is stopped), reset (its database is a
 * cluster of one, nothing of the site's), join, start_app.
 */
export async function joinStray(ctx: StepContext, join: StrayJoin): Promise<void> {
  const node = nodeName(join.host);
  const seed = nodeName(join.seed);
  const t = ctx.peer(join.host);
  ctx.log.warn(
    join.forget
      ? `${node} runs apart from ${seed}, whose cluster lists a stopped ${node}: a reinstalled node; forgetting the old one and joining the new`
      : `${node} runs apart from ${seed}; joining it`,
  );
  const steps: { on: string; argv: string[] }[] = [
    { on: join.host, argv: ["rabbitmqctl", "stop_app"] },
    ...(join.forget ? [{ on: join.seed, argv: ["rabbitmqctl", "forget_cluster_node", node] }] : []),
    { on: join.host, argv: ["rabbitmqctl", "reset"] },
    { on: join.host, argv: ["rabbitmqctl", "join_cluster", seed] },
    { on: join.host, argv: ["rabbitmqctl", "start_app"] },
  ];
  for (const s of steps) {
    const r = await (s.on === join.host ? t : ctx.peer(s.on)).exec(s.argv, {
      timeoutMs: 120_000,
      signal: ctx.signal,
    });
    if (r.code !== 0)
      throw new HastackError(
        "E_RABBITMQ_JOIN",
        `Cannot join ${node} to ${seed}: \`${s.argv.join(" ")}\` on ${s.on} exited with code ${r.code}: ${lastLine(r.stderr || r.stdout)}`,
      );
  }
}
