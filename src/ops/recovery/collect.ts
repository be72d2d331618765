/**
 * @module
 * Every fact `hastack recover` decides on, from every controller at once: Galera and RabbitMQ
 * per node, then the power and fence facts of the ones that did not answer, then the quorum
 * queues from a running RabbitMQ node. The decisions (galera-plan.ts, rabbitmq-plan.ts) take it
 * from there; nothing here decides or changes anything.
 */
import { rabbitmqSettings } from "../../services/rabbitmq/settings.ts";
import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { collectGaleraNode } from "./collect-galera.ts";
import { collectPower } from "./collect-power.ts";
import { type CollectedRabbit, collectQuorumQueues, collectRabbitNode } from "./collect-rabbitmq.ts";
import type { GaleraFacts } from "./galera-plan.ts";
import type { RabbitFacts } from "./rabbitmq-plan.ts";
import type { QuorumQueue } from "./rabbitmq-queues.ts";
import { unreachableWhy } from "./reach.ts";
import { collectStackNode, type StackNode } from "./stack.ts";

export interface RecoveryInput {
  topology: Topology;
  transport(host: string): Transport;
  /** The secret's value, or undefined when the secrets file lacks it (BMC passwords). */
  secret(name: string): string | undefined;
  /** Per command; tests make it short. */
  timeoutMs?: number;
}

export interface RecoveryFacts {
  galera: GaleraFacts;
  rabbitmq: RabbitFacts;
  /** Why each controller that did not answer is unreachable, by host. */
  unreachable: Record<string, string>;
  /** What the collection found out on the way (recovered positions, silent BMCs). */
  notes: string[];
  /** corosync and pacemaker on each reachable controller. */
  stack: StackNode[];
}

export async function collectRecoveryFacts(input: RecoveryInput): Promise<RecoveryFacts> {
  const { topology } = input;
  const controllers = topology.roles.controller;
  const opts = input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs };
  const perHost = await Promise.all(
    controllers.map(async (host) => {
      const t = input.transport(host);
      const galera = await collectGaleraNode(t, opts);
      // One SSH for both: a host that did not answer for Galera is not asked again.
      const rabbit: CollectedRabbit = galera.unreachable
        ? { node: { host, state: "unreachable" }, unreachable: galera.unreachable }
        : await collectRabbitNode(t, opts);
      const stack =
        galera.unreachable === undefined ? await collectStackNode(t, opts).catch(() => undefined) : undefined;
      return { host, galera, rabbit, stack };
    }),
  );
  const unreachable: Record<string, string> = {};
  for (const { host, galera, rabbit } of perHost) {
    const why = galera.unreachable ?? rabbit.unreachable;
    if (why !== undefined) unreachable[host] = why;
  }
  const reachable = controllers.filter((h) => unreachable[h] === undefined);
  const missing = topology.hosts.filter((h) => controllers.includes(h.name) && unreachable[h.name]);
  const { power, notes: powerNotes } = await collectPower({
    missing,
    reachable,
    transport: input.transport,
    secret: input.secret,
    ...opts,
  });
  const running = perHost.flatMap((p) => (p.rabbit.node.state === "running" ? [p.host] : []));
  const queues = await quorumQueues(input, running, rabbitmqSettings(topology).vhost);
  return {
    galera: { nodes: perHost.map((p) => p.galera.node), power },
    rabbitmq: {
      nodes: perHost.map((p) => p.rabbit.node),
      power,
      queues,
      // One member per controller: what a quorum queue has on a whole site (issue #11's target).
      replicas: controllers.length,
    },
    unreachable,
    notes: [...perHost.flatMap((p) => p.galera.notes), ...powerNotes],
    stack: perHost.flatMap((p) => (p.stack ? [p.stack] : [])),
  };
}

/** From the first running node that still answers; none while nothing runs. */
async function quorumQueues(
  input: RecoveryInput,
  running: readonly string[],
  vhost: string,
): Promise<QuorumQueue[]> {
  for (const host of running) {
    try {
      const opts = input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs };
      return await collectQuorumQueues(input.transport(host), vhost, opts);
    } catch (error) {
      if (unreachableWhy(error) === undefined) throw error;
    }
  }
  return [];
}
