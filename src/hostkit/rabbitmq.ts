/**
 * @module
 * RabbitMQ through `rabbitmqctl` / `rabbitmq-diagnostics --formatter json`, parsed through zod.
 */
import { z } from "zod";
import type { ExecOptions, Transport } from "../transport/types.ts";
import { parseToolJson, parseToolOutput, runTool } from "./command.ts";

export const ClusterStatus = z
  .object({
    running_nodes: z.array(z.string()).default([]),
    disk_nodes: z.array(z.string()).default([]),
    // A map of node -> nodes it is partitioned from (an empty map or list when whole).
    partitions: z.union([z.record(z.string(), z.array(z.string())), z.array(z.unknown())]).default({}),
    alarms: z.array(z.unknown()).default([]),
  })
  .transform((s) => ({
    running: s.running_nodes,
    disk: s.disk_nodes,
    partitions: Array.isArray(s.partitions) ? s.partitions.length : Object.keys(s.partitions).length,
    alarms: s.alarms,
  }));
export type ClusterStatus = z.output<typeof ClusterStatus>;

export const Queue = z.object({
  name: z.string(),
  type: z.string(),
  // "" or absent for a classic queue; a node name for a quorum queue with a leader.
  leader: z.string().optional(),
});
export const Vhost = z.object({ name: z.string(), default_queue_type: z.string().optional() });
export const User = z.object({ user: z.string() });
export const Permission = z.object({
  vhost: z.string(),
  configure: z.string(),
  write: z.string(),
  read: z.string(),
});

async function json<S extends z.ZodType>(
  t: Transport,
  argv: string[],
  schema: S,
  what: string,
  opts?: ExecOptions,
): Promise<z.output<S>> {
  const r = await runTool(t, "E_RABBITMQ", what, [...argv, "--formatter", "json"], {
    timeoutMs: 60_000,
    ...opts,
  });
  // An empty listing prints nothing at all under -q.
  const text = r.stdout.trim() === "" ? "[]" : r.stdout;
  return parseToolOutput(
    t,
    argv.slice(0, 3).join(" "),
    schema,
    parseToolJson(t, argv[0] ?? "rabbitmqctl", text),
  );
}

export function clusterStatus(t: Transport, opts?: ExecOptions): Promise<ClusterStatus> {
  return json(
    t,
    ["rabbitmq-diagnostics", "-q", "cluster_status"],
    ClusterStatus,
    "read the RabbitMQ cluster status",
    {
      timeoutMs: 30_000,
      ...opts,
    },
  );
}

export function listQueues(
  t: Transport,
  vhost: string,
  opts?: ExecOptions,
): Promise<z.output<typeof Queue>[]> {
  return json(
    t,
    ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type", "leader"],
    z.array(Queue),
    `list the queues of ${vhost}`,
    opts,
  );
}

export function listVhosts(t: Transport, opts?: ExecOptions): Promise<z.output<typeof Vhost>[]> {
  return json(
    t,
    ["rabbitmqctl", "-q", "list_vhosts", "name", "default_queue_type"],
    z.array(Vhost),
    "list vhosts",
    opts,
  );
}

export function listUsers(t: Transport, opts?: ExecOptions): Promise<z.output<typeof User>[]> {
  return json(t, ["rabbitmqctl", "-q", "list_users"], z.array(User), "list users", opts);
}

export function listUserPermissions(
  t: Transport,
  user: string,
  opts?: ExecOptions,
): Promise<z.output<typeof Permission>[]> {
  return json(
    t,
    ["rabbitmqctl", "-q", "list_user_permissions", user],
    z.array(Permission),
    `list ${user}'s permissions`,
    opts,
  );
}

export const VhostPermission = z.object({
  user: z.string(),
  configure: z.string(),
  write: z.string(),
  read: z.string(),
});

/** Every user's permissions on one vhost, in one call (one Erlang VM for all of them). */
export function listPermissions(
  t: Transport,
  vhost: string,
  opts?: ExecOptions,
): Promise<z.output<typeof VhostPermission>[]> {
  return json(
    t,
    ["rabbitmqctl", "-q", "list_permissions", "-p", vhost],
    z.array(VhostPermission),
    `list the permissions on ${vhost}`,
    opts,
  );
}

/** The rabbit app runs (not merely the Erlang node, which waits there for its peers at boot). */
export async function appRunning(t: Transport, opts?: ExecOptions): Promise<boolean> {
  const r = await t.exec(["rabbitmq-diagnostics", "-q", "check_running"], { timeoutMs: 30_000, ...opts });
  return r.code === 0;
}

/**
 * `list_queues name type members`: a quorum queue lists the node of every replica. A classic
 * queue has no replicas; what it prints there varies (nothing, a node), and nothing reads it.
 */
export const QueueMembers = z.object({
  name: z.string(),
  type: z.string(),
  members: z.union([z.array(z.string()), z.string(), z.null()]).optional(),
});

export function listQueueMembers(
  t: Transport,
  vhost: string,
  opts?: ExecOptions,
): Promise<z.output<typeof QueueMembers>[]> {
  return json(
    t,
    ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type", "members"],
    z.array(QueueMembers),
    `list the queue members of ${vhost}`,
    opts,
  );
}

/**
 * rabbitmq-streams as root: Debian ships it without the /usr/sbin wrapper its siblings have
 * (which runs them as the rabbitmq user, whose Erlang cookie they need), so it runs as that user,
 * as the wrapper would, from its home (in root's home the Erlang VM cannot start: a crash dump,
 * seen on the lab).
 */
export const RABBITMQ_STREAMS = [
  "runuser",
  "-u",
  "rabbitmq",
  "--",
  "env",
  "-C",
  "/var/lib/rabbitmq",
  "HOME=/var/lib/rabbitmq",
  "/usr/lib/rabbitmq/bin/rabbitmq-streams",
] as const;

/** Where a Mnesia node keeps the nodes that ran when it last stopped (rabbit_node_monitor). */
export function runningAtShutdownPath(node: string): string {
  return `/var/lib/rabbitmq/mnesia/${node}/nodes_running_at_shutdown`;
}

const NodeName = z.string().regex(/^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$/, "not a node name");
const AtShutdown = z
  .string()
  .transform((text) => /^\[(.*)\]\.$/s.exec(text.trim())?.[1])
  .pipe(z.string("not an Erlang list ending in '.'"))
  .transform((list) => list.split(",").map((atom) => atom.trim().replace(/^'(.*)'$/, "$1")))
  .pipe(z.array(NodeName).min(1, "no node"));

/**
 * nodes_running_at_shutdown: one Erlang term, the list of nodes that ran when this one stopped
 * (itself included), written by rabbit_file:write_term_file as `~w.~n`: `[rabbit@ctl1,rabbit@ctl2].`
 * An atom that needs it is quoted (`'rabbit@ctl-1'`).
 */
export function parseRunningAtShutdown(t: Pick<Transport, "name">, text: string): string[] {
  return parseToolOutput(t, "nodes_running_at_shutdown", AtShutdown, text);
}
