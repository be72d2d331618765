import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";

/** Members, leader and a real put+get, per node, through each node's own client URL. */
export function etcdHealth(topology: Topology): ProbeSpec[] {
  return [
    {
      id: "member",
      title: "etcd member",
      on: "each",
      weight: "redundant",
      run: (ctx) => probe(ctx, topology),
    },
  ];
}

interface EndpointStatus {
  Endpoint: string;
  Status: {
    header: { member_id: number; raft_term: number };
    leader: number;
    dbSize: number;
    errors?: string[];
  };
}

async function probe(ctx: ProbeContext, topology: Topology): Promise<ProbeResult> {
  const host = ctx.host;
  if (!host) return { state: "unknown", summary: "no host" };
  const endpoint = `http://${host.ip}:2379`;
  const status = await ctx.exec(host.name, [
    "etcdctl",
    `--endpoints=${endpoint}`,
    "--command-timeout=3s",
    "endpoint",
    "status",
    "-w",
    "json",
  ]);
  if (status.code !== 0) return { state: "down", summary: `no answer: ${lastLine(status.stderr)}` };
  const [entry] = JSON.parse(status.stdout) as EndpointStatus[];
  const members = await ctx.exec(host.name, [
    "etcdctl",
    `--endpoints=${endpoint}`,
    "member",
    "list",
    "-w",
    "json",
  ]);
  const count =
    members.code === 0 ? ((JSON.parse(members.stdout) as { members?: unknown[] }).members ?? []).length : 0;
  const key = `/hastack/probe/${host.name}`;
  const token = Date.now().toString(36);
  const put = await ctx.exec(host.name, ["etcdctl", `--endpoints=${endpoint}`, "put", key, token]);
  const get = await ctx.exec(host.name, [
    "etcdctl",
    `--endpoints=${endpoint}`,
    "get",
    key,
    "--print-value-only",
  ]);
  const written = put.code === 0 && get.stdout.trim() === token;
  const leader = entry?.Status.leader ?? 0;
  const isLeader = leader !== 0 && leader === entry?.Status.header.member_id;
  const want = topology.roles.controller.length;
  const summary = `${count}/${want} members, ${leader ? (isLeader ? "leader" : "follower") : "NO LEADER"}, term ${entry?.Status.header.raft_term ?? "?"}, put+get ${written ? "ok" : "FAILED"}`;
  const state = !leader || !written ? "down" : count < want ? "degraded" : "ok";
  return { state, summary, details: { leader: leader.toString(16), members: count } };
}
