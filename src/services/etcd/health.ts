import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { endpointStatus, memberList, putGet } from "../../hostkit/etcd.ts";
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

async function probe(ctx: ProbeContext, topology: Topology): Promise<ProbeResult> {
  const host = ctx.host;
  if (!host) return { state: "unknown", summary: "no host" };
  const t = ctx.transport(host.name);
  const endpoint = [`http://${host.ip}:2379`];
  const opts = { signal: ctx.signal };
  const status = await endpointStatus(t, endpoint, opts).catch((e: Error) => e);
  if (status instanceof Error) return { state: "down", summary: `no answer: ${lastLine(status.message)}` };
  const entry = status[0];
  const count = (await memberList(t, endpoint, opts).catch(() => [])).length;
  const written = await putGet(
    t,
    endpoint[0] as string,
    `/hastack/probe/${host.name}`,
    Date.now().toString(36),
    opts,
  );
  const leader = entry?.Status.leader ?? "0";
  const hasLeader = leader !== "0";
  const isLeader = hasLeader && leader === entry?.Status.header.member_id;
  const want = topology.roles.controller.length;
  const summary = `${count}/${want} members, ${hasLeader ? (isLeader ? "leader" : "follower") : "NO LEADER"}, term ${entry?.Status.header.raft_term ?? "?"}, put+get ${written ? "ok" : "FAILED"}`;
  const state = !hasLeader || !written ? "down" : count < want ? "degraded" : "ok";
  return { state, summary, details: { leader: BigInt(leader).toString(16), members: count } };
}
