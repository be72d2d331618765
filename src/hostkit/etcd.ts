/**
 * @module
 * etcd through `etcdctl -w json`, parsed through zod. Member ids are 64-bit: JSON numbers that
 * JavaScript would round, so they are kept as decimal strings from the source text.
 */
import { z } from "zod";
import type { ExecOptions, Transport } from "../transport/types.ts";
import { parseToolOutput, runTool } from "./command.ts";

const id = z.string().regex(/^\d+$/);

export const EndpointStatus = z.array(
  z.object({
    Endpoint: z.string(),
    Status: z.object({
      header: z.object({ member_id: id, raft_term: z.number() }),
      version: z.string(),
      leader: id,
      dbSize: z.number(),
      errors: z.array(z.string()).optional(),
    }),
  }),
);
export type EndpointStatus = z.output<typeof EndpointStatus>[number];

export const MemberList = z.object({
  members: z
    .array(
      z.object({
        ID: id,
        // A member added but never started has no name yet.
        name: z.string().default(""),
        peerURLs: z.array(z.string()).default([]),
        clientURLs: z.array(z.string()).default([]),
      }),
    )
    .default([]),
});
export type Member = z.output<typeof MemberList>["members"][number];

const ID_KEYS = new Set(["member_id", "leader", "ID", "cluster_id"]);

/** JSON.parse with etcd's 64-bit ids as the exact digits of the source text (not rounded numbers). */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, (key, value: unknown, context?: { source?: string }) =>
    ID_KEYS.has(key) && typeof value === "number" && context?.source !== undefined ? context.source : value,
  );
}

async function etcdctl(
  t: Transport,
  endpoints: readonly string[],
  args: string[],
  what: string,
  opts?: ExecOptions,
) {
  return runTool(
    t,
    "E_ETCD",
    what,
    ["etcdctl", `--endpoints=${endpoints.join(",")}`, "--command-timeout=3s", ...args],
    {
      timeoutMs: 15_000,
      ...opts,
    },
  );
}

export function parseEndpointStatus(t: Transport, text: string): EndpointStatus[] {
  return parseToolOutput(t, "etcdctl endpoint status", EndpointStatus, parseJsonExact(text));
}

export function parseMemberList(t: Transport, text: string): Member[] {
  return parseToolOutput(t, "etcdctl member list", MemberList, parseJsonExact(text)).members;
}

export async function endpointStatus(
  t: Transport,
  endpoints: readonly string[],
  opts?: ExecOptions,
): Promise<EndpointStatus[]> {
  const r = await etcdctl(
    t,
    endpoints,
    ["endpoint", "status", "-w", "json"],
    "read etcd's endpoint status",
    opts,
  );
  return parseEndpointStatus(t, r.stdout);
}

export async function memberList(
  t: Transport,
  endpoints: readonly string[],
  opts?: ExecOptions,
): Promise<Member[]> {
  const r = await etcdctl(t, endpoints, ["member", "list", "-w", "json"], "list etcd's members", opts);
  return parseMemberList(t, r.stdout);
}

/** `endpoint health`: true, or what etcdctl said was wrong. */
export async function endpointHealth(
  t: Transport,
  endpoints: readonly string[],
  opts?: ExecOptions,
): Promise<true | string> {
  const r = await t.exec(
    ["etcdctl", `--endpoints=${endpoints.join(",")}`, "--command-timeout=3s", "endpoint", "health"],
    {
      timeoutMs: 15_000,
      ...opts,
    },
  );
  return r.code === 0 ? true : (r.stderr || r.stdout).trim().split("\n").slice(-2).join(" / ");
}

/** A put then a get of the same key: true when the value comes back. */
export async function putGet(
  t: Transport,
  endpoint: string,
  key: string,
  value: string,
  opts?: ExecOptions,
): Promise<boolean> {
  const put = await t.exec(
    ["etcdctl", `--endpoints=${endpoint}`, "--command-timeout=3s", "put", key, value],
    opts,
  );
  if (put.code !== 0) return false;
  const get = await t.exec(
    ["etcdctl", `--endpoints=${endpoint}`, "--command-timeout=3s", "get", key, "--print-value-only"],
    opts,
  );
  return get.code === 0 && get.stdout.trim() === value;
}
