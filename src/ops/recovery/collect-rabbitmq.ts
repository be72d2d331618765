/**
 * @module
 * The RabbitMQ facts of one controller, read over its Transport: whether the rabbit app runs
 * (or the Erlang node waits for its peers), the cluster as a running node sees it, the nodes
 * that ran when a stopped or waiting node last stopped (what decides the node to force-boot),
 * and the quorum queues' members. Every answer goes through zod (hostkit/rabbitmq.ts).
 */
import { z } from "zod";
import { parseToolOutput } from "../../hostkit/command.ts";
import {
  appRunning,
  clusterStatus,
  listQueueMembers,
  parseRunningAtShutdown,
  runningAtShutdownPath,
} from "../../hostkit/rabbitmq.ts";
import { show } from "../../hostkit/systemd.ts";
import type { ExecOptions, Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { RabbitNode } from "./rabbitmq-plan.ts";
import type { QuorumQueue } from "./rabbitmq-queues.ts";
import { PROBE_MS, unreachableWhy } from "./reach.ts";

export const RABBITMQ_UNIT = "rabbitmq-server";

export interface CollectedRabbit {
  node: RabbitNode;
  /** Why it is unreachable: the transport's own sentence. */
  unreachable?: string;
}

/** hastack names every node rabbit@<inventory host> (rabbitmq-env.conf's NODENAME). */
export function nodeName(host: string): string {
  return `rabbit@${host}`;
}

export function hostOf(node: string): string {
  return node.replace(/^rabbit@/, "");
}

export async function collectRabbitNode(
  t: Transport,
  options: { timeoutMs?: number } = {},
): Promise<CollectedRabbit> {
  try {
    return { node: await collect(t, { timeoutMs: options.timeoutMs ?? PROBE_MS }) };
  } catch (error) {
    const why = unreachableWhy(error);
    if (why === undefined) throw error;
    return { node: { host: t.name, state: "unreachable" }, unreachable: why };
  }
}

async function collect(t: Transport, opts: ExecOptions): Promise<RabbitNode> {
  const host = t.name;
  // ActiveState: the unit is Type=notify, and a node waiting for its peers at boot stays
  // "activating" (is-active says no, yet the Erlang node runs and holds the data directory).
  const { ActiveState: active } = await show(t, RABBITMQ_UNIT, ["ActiveState"], opts);
  if (active === "inactive" || active === "failed")
    return { host, state: "stopped", ...(await atShutdown(t)) };
  // A node that cannot say in time whether its app runs is not running it yet.
  const up = await appRunning(t, opts).catch((error: unknown) => {
    if (error instanceof HastackError && error.code === "E_COMMAND_TIMEOUT") return false;
    throw error;
  });
  if (!up) return { host, state: "booting", ...(await atShutdown(t)) };
  const status = await clusterStatus(t, opts);
  return {
    host,
    state: "running",
    members: status.disk.map(hostOf),
    running: status.running.map(hostOf),
    partitions: status.partitions,
  };
}

/** Absent when the file is (a node that never clustered, or a wiped data directory). */
async function atShutdown(t: Transport): Promise<{ runningAtShutdown?: string[] }> {
  const text = await t.readFile(runningAtShutdownPath(nodeName(t.name)));
  if (text === undefined) return {};
  return { runningAtShutdown: parseRunningAtShutdown(t, text.toString("utf8")).map(hostOf) };
}

type QueueType = "quorum" | "stream";

const Members = z.array(z.string(), "a quorum queue or stream without a list of members");

/** The quorum queues and streams of `vhost` with the hosts of their members, asked of a running node. */
export async function collectQuorumQueues(
  t: Transport,
  vhost: string,
  options: { timeoutMs?: number } = {},
): Promise<QuorumQueue[]> {
  const queues = await listQueueMembers(t, vhost, { timeoutMs: options.timeoutMs ?? PROBE_MS });
  return queues
    .filter((q): q is typeof q & { type: QueueType } => q.type === "quorum" || q.type === "stream")
    .map((q) => ({
      vhost,
      name: q.name,
      type: q.type,
      members: parseToolOutput(t, "rabbitmqctl list_queues", Members, q.members).map(hostOf),
    }));
}
