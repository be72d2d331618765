/**
 * @module
 * RabbitMQ's management HTTP API, read with curl on the node itself (it listens on loopback
 * only). Each rabbitmqctl / rabbitmq-diagnostics call boots an Erlang VM: 1-3 s on an idle
 * controller, 24-31 s measured on the lab's controllers at load 36 while a cloud deploy started
 * its services; a question to the running node over HTTP costs a curl. Answers go through zod.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { ExecOptions, Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { parseToolJson, parseToolOutput, runTool } from "./command.ts";

export const MANAGEMENT_PORT = 15672;

export const MgmtNode = z.object({
  name: z.string(),
  running: z.boolean(),
  // Nodes this one is partitioned from; RabbitMQ lists them only while it runs.
  partitions: z.array(z.string()).default([]),
  mem_alarm: z.boolean().optional(),
  disk_free_alarm: z.boolean().optional(),
});
export type MgmtNode = z.output<typeof MgmtNode>;

export const MgmtQueue = z.object({
  name: z.string(),
  type: z.string(),
  // A quorum queue's leader; absent for a classic queue and for a quorum queue without one.
  leader: z.string().optional(),
});
export type MgmtQueue = z.output<typeof MgmtQueue>;

export const MgmtUser = z.object({
  name: z.string(),
  password_hash: z.string(),
  hashing_algorithm: z.string(),
  // A list in RabbitMQ 4; a comma-separated string in older answers.
  tags: z.union([z.array(z.string()), z.string().transform((t) => t.split(",").filter(Boolean))]),
});
export type MgmtUser = z.output<typeof MgmtUser>;

export const MgmtVhost = z
  .object({
    name: z.string(),
    // Top-level in RabbitMQ 4's answer; kept in the metadata too.
    default_queue_type: z.string().optional(),
    metadata: z.object({ default_queue_type: z.string().optional() }).partial().optional(),
  })
  .transform((v) => ({
    name: v.name,
    defaultQueueType: v.default_queue_type ?? v.metadata?.default_queue_type,
  }));
export type MgmtVhost = z.output<typeof MgmtVhost>;

export const MgmtPermission = z.object({ configure: z.string(), write: z.string(), read: z.string() });
export type MgmtPermission = z.output<typeof MgmtPermission>;

export interface MgmtCredentials {
  user: string;
  password: string;
}

export interface MgmtAnswer {
  status: number;
  body: string;
}

/** curl's config syntax: a double-quoted value with backslash escapes. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * One request to the node's management API. Credentials and body go on stdin as curl's config
 * (`-K -`), never in argv, where any user of the host could read them in the process list.
 * The HTTP status is the answer's last line (`-w`), so a 404 is an answer, not a failure.
 */
export async function mgmtRequest(
  t: Transport,
  method: "GET" | "PUT" | "DELETE",
  path: string,
  credentials: MgmtCredentials,
  what: string,
  opts: ExecOptions & { body?: unknown } = {},
): Promise<MgmtAnswer> {
  const { body, ...exec } = opts;
  const config = [
    `user = ${quote(`${credentials.user}:${credentials.password}`)}`,
    `request = ${quote(method)}`,
    ...(body === undefined
      ? []
      : [
          `header = ${quote("content-type: application/json")}`,
          `data-binary = ${quote(JSON.stringify(body))}`,
        ]),
  ].join("\n");
  const url = `http://127.0.0.1:${MANAGEMENT_PORT}${path}`;
  const r = await runTool(
    t,
    "E_RABBITMQ",
    what,
    ["curl", "-sS", "--max-time", "20", "-w", "\\n%{http_code}", "-K", "-", url],
    {
      timeoutMs: 25_000,
      ...exec,
      stdin: `${config}\n`,
    },
  );
  const lines = r.stdout.replace(/\n$/, "").split("\n");
  const status = Number(lines.pop());
  return { status, body: lines.join("\n") };
}

async function get<S extends z.ZodType>(
  t: Transport,
  path: string,
  schema: S,
  credentials: MgmtCredentials,
  what: string,
  opts?: ExecOptions,
): Promise<z.output<S> | undefined> {
  const answer = await mgmtRequest(t, "GET", path, credentials, what, opts);
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw refused(t, what, answer);
  return parseToolOutput(
    t,
    `RabbitMQ's ${path.split("?")[0]}`,
    schema,
    parseToolJson(t, "RabbitMQ's management API", answer.body),
  );
}

/** A non-2xx answer as an error naming the host, what was asked and RabbitMQ's reason. */
export function refused(t: Pick<Transport, "name">, what: string, answer: MgmtAnswer): HastackError {
  const reason = /"reason":"([^"]*)"/.exec(answer.body)?.[1] ?? answer.body.slice(0, 160);
  return new HastackError(
    "E_RABBITMQ",
    `Cannot ${what} on ${t.name}: HTTP ${answer.status}${reason ? `: ${reason}` : ""}`,
  );
}

async function list<S extends z.ZodType>(
  t: Transport,
  path: string,
  schema: S,
  credentials: MgmtCredentials,
  what: string,
  opts?: ExecOptions,
): Promise<z.output<S>[]> {
  const got = await get(t, path, z.array(schema), credentials, what, opts);
  if (got === undefined) throw refused(t, what, { status: 404, body: "" });
  return got;
}

/** Every node of the cluster as this node sees it: running, partitions, alarms. */
export function mgmtNodes(
  t: Transport,
  credentials: MgmtCredentials,
  opts?: ExecOptions,
): Promise<MgmtNode[]> {
  return list(
    t,
    "/api/nodes?columns=name,running,partitions,mem_alarm,disk_free_alarm",
    MgmtNode,
    credentials,
    "read RabbitMQ's nodes",
    opts,
  );
}

/** The queues of a vhost with their type and leader. */
export function mgmtQueues(
  t: Transport,
  vhost: string,
  credentials: MgmtCredentials,
  opts?: ExecOptions,
): Promise<MgmtQueue[]> {
  return list(
    t,
    `/api/queues/${encodeURIComponent(vhost)}?columns=name,type,leader`,
    MgmtQueue,
    credentials,
    `list the queues of ${vhost}`,
    opts,
  );
}

export const MgmtQueueMembers = z.object({
  name: z.string(),
  type: z.string(),
  // A quorum queue's replicas (node names); classic queues have none.
  members: z.array(z.string()).optional(),
});
export type MgmtQueueMembers = z.output<typeof MgmtQueueMembers>;

/** Every queue of every vhost with the nodes of its replicas. */
export function mgmtQueueMembers(
  t: Transport,
  credentials: MgmtCredentials,
  opts?: ExecOptions,
): Promise<(MgmtQueueMembers & { vhost: string })[]> {
  return list(
    t,
    "/api/queues?columns=vhost,name,type,members",
    MgmtQueueMembers.extend({ vhost: z.string() }),
    credentials,
    "list the queues' replicas",
    opts,
  );
}

/** A user, or undefined when there is none of that name. */
export function mgmtUser(
  t: Transport,
  name: string,
  credentials: MgmtCredentials,
  opts?: ExecOptions,
): Promise<MgmtUser | undefined> {
  return get(
    t,
    `/api/users/${encodeURIComponent(name)}`,
    MgmtUser,
    credentials,
    `read the RabbitMQ user ${name}`,
    opts,
  );
}

/** A vhost with its default queue type, or undefined when there is none of that name. */
export function mgmtVhost(
  t: Transport,
  vhost: string,
  credentials: MgmtCredentials,
  opts?: ExecOptions,
): Promise<MgmtVhost | undefined> {
  return get(
    t,
    `/api/vhosts/${encodeURIComponent(vhost)}`,
    MgmtVhost,
    credentials,
    `read the vhost ${vhost}`,
    opts,
  );
}

/** A user's rights on a vhost, or undefined when it has none. */
export function mgmtPermission(
  t: Transport,
  vhost: string,
  user: string,
  credentials: MgmtCredentials,
  opts?: ExecOptions,
): Promise<MgmtPermission | undefined> {
  return get(
    t,
    `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`,
    MgmtPermission,
    credentials,
    `read ${user}'s rights on ${vhost}`,
    opts,
  );
}

/** PUT that must succeed (201 created, 204 updated). */
export async function mgmtPut(
  t: Transport,
  path: string,
  body: unknown,
  credentials: MgmtCredentials,
  what: string,
  opts?: ExecOptions,
): Promise<void> {
  const answer = await mgmtRequest(t, "PUT", path, credentials, what, { ...opts, body });
  if (answer.status !== 201 && answer.status !== 204) throw refused(t, what, answer);
}

/**
 * Whether `password` is the one RabbitMQ stored: its default hashing (rabbit_password_hashing_
 * sha256) stores base64(salt + sha256(salt + password)) with a 4-byte salt. Checked here instead
 * of a login, which needs a user with a management tag (the services' users have none).
 */
export function passwordMatches(user: MgmtUser, password: string): boolean {
  if (user.hashing_algorithm !== "rabbit_password_hashing_sha256") return false;
  const stored = Buffer.from(user.password_hash, "base64");
  if (stored.length !== 36) return false;
  const salt = stored.subarray(0, 4);
  const digest = createHash("sha256").update(salt).update(password, "utf8").digest();
  return timingSafeEqual(digest, stored.subarray(4));
}
