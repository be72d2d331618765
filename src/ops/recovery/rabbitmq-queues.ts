/**
 * @module
 * Quorum queue replicas after a node was lost or replaced. A queue keeps its members on a node
 * that is only down (Raft catches it up when it is back); a node that is forgotten takes its
 * members with it, and nothing adds them back by itself: peers' operators repair them by hand
 * (stackhpc-kayobe-config PR #2532). This computes the repair, for streams too: forgetting a
 * node takes it out of them as well, and `rabbitmq-queues grow` does not touch them.
 */
import { RABBITMQ_STREAMS } from "../../hostkit/rabbitmq.ts";

/**
 * A replicated queue and the hosts its members are on (`list_queues name type members`, node
 * names mapped to hosts): a quorum queue, or a stream (oslo.messaging's fanout queues are streams
 * here); undefined is a quorum queue.
 */
export interface QuorumQueue {
  vhost: string;
  name: string;
  type?: "quorum" | "stream";
  members: string[];
}

export interface QueueShortfall {
  vhost: string;
  name: string;
  type: "quorum" | "stream";
  members: string[];
  /** Hosts that get a member: running nodes the queue lacks, in inventory order. */
  add: string[];
  /** Members still missing when every running node has one (the queue stays below the count). */
  unfilled: number;
}

export type QueueAction =
  /** One command for a host every short queue lacks: adds it to all quorum queues without it. */
  | { kind: "grow"; host: string; queues: number }
  | { kind: "add-member"; host: string; vhost: string; queue: string }
  /** A stream's replica: streams have no `grow`, one replica at a time. */
  | { kind: "add-replica"; host: string; vhost: string; queue: string };

export interface QueueRepair {
  shortfalls: QueueShortfall[];
  actions: QueueAction[];
}

/**
 * Queues below `replicas` members (or below the cluster size when that is smaller), and how to
 * restore them on `running` hosts. Members on `forgotten` hosts do not count: forgetting a node
 * removes them. `grow` is used for a host only when every queue it would touch is short, so that
 * it never adds a replica beyond the wanted count.
 */
export function queueRepair(
  queues: readonly QuorumQueue[],
  opts: { replicas: number; clusterSize: number; running: readonly string[]; forgotten: readonly string[] },
): QueueRepair {
  const wanted = Math.min(opts.replicas, opts.clusterSize);
  const shortfalls: QueueShortfall[] = [];
  for (const q of queues) {
    const members = q.members.filter((m) => !opts.forgotten.includes(m));
    const missing = wanted - members.length;
    if (missing <= 0) continue;
    const add = opts.running.filter((h) => !members.includes(h)).slice(0, missing);
    shortfalls.push({
      vhost: q.vhost,
      name: q.name,
      type: q.type ?? "quorum",
      members,
      add,
      unfilled: missing - add.length,
    });
  }
  const actions: QueueAction[] = [];
  for (const host of opts.running) {
    const needing = shortfalls.filter((s) => s.add.includes(host) && s.type === "quorum");
    const lacking = queues.filter((q) => (q.type ?? "quorum") === "quorum" && !q.members.includes(host));
    if (needing.length > 1 && needing.length === lacking.length)
      actions.push({ kind: "grow", host, queues: needing.length });
    else for (const s of needing) actions.push({ kind: "add-member", host, vhost: s.vhost, queue: s.name });
    for (const s of shortfalls)
      if (s.type === "stream" && s.add.includes(host))
        actions.push({ kind: "add-replica", host, vhost: s.vhost, queue: s.name });
  }
  return { shortfalls, actions };
}

/** The command, run on any running node (`rabbit@<host>` is the node name hastack renders). */
export function queueActionArgv(action: QueueAction): string[] {
  if (action.kind === "grow") return ["rabbitmq-queues", "grow", `rabbit@${action.host}`, "all"];
  if (action.kind === "add-replica")
    return [
      ...RABBITMQ_STREAMS,
      "add_replica",
      "--vhost",
      action.vhost,
      action.queue,
      `rabbit@${action.host}`,
    ];
  return ["rabbitmq-queues", "add_member", "--vhost", action.vhost, action.queue, `rabbit@${action.host}`];
}
