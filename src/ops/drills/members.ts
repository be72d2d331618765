/**
 * @module
 * Is every cluster on the controllers made of exactly the controllers, each once and each
 * running? What a replaced controller can leave behind is an old member under the same name or
 * address: an etcd member, a RabbitMQ node or quorum queue replica, an OVN Raft server, a
 * Pacemaker node, a Galera node the cluster still counts. `status` checks health; this checks
 * membership, member by member, for the controller-replace drill.
 */

import { CRM_MON_ARGV, parseCrmMon } from "../../hostkit/crm-mon.ts";
import { memberList } from "../../hostkit/etcd.ts";
import { mgmtNodes, mgmtQueueMembers } from "../../hostkit/rabbitmq-http.ts";
import { globalStatus } from "../../hostkit/sql.ts";
import { parseClusterStatus } from "../../services/neutron/cluster-status.ts";
import { clusterStatusCommand, OVN_SCHEMA, raftAddress } from "../../services/neutron/ovn-central.ts";
import { adminCredentials } from "../../services/rabbitmq/admin.ts";
import { queueGaps } from "../../services/rabbitmq/replicas.ts";
import type { ResolvedHost } from "../../topology/types.ts";
import type { DrillContext } from "./types.ts";

/** Differences between the members a cluster lists and the ones it should: [] when equal. */
export function memberProblems(what: string, listed: readonly string[], want: readonly string[]): string[] {
  const problems: string[] = [];
  const twice = [...new Set(listed.filter((m, i) => listed.indexOf(m) !== i))];
  const extra = [...new Set(listed.filter((m) => !want.includes(m)))];
  const missing = want.filter((m) => !listed.includes(m));
  if (twice.length > 0) problems.push(`${what}: listed twice: ${twice.join(", ")}`);
  if (extra.length > 0) problems.push(`${what}: not a controller: ${extra.join(", ")}`);
  if (missing.length > 0) problems.push(`${what}: missing: ${missing.join(", ")}`);
  return problems;
}

function error(e: unknown): string {
  return e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e);
}

async function etcd(ctx: DrillContext, hosts: ResolvedHost[]): Promise<string[]> {
  const t = ctx.pool.get(hosts[0]?.name ?? "");
  const members = await memberList(
    t,
    hosts.map((h) => `http://${h.ip}:2379`),
  );
  const unstarted = members.filter((m) => m.name === "").map((m) => m.peerURLs.join(","));
  return [
    ...memberProblems(
      "etcd members",
      members.filter((m) => m.name !== "").map((m) => m.name),
      hosts.map((h) => h.name),
    ),
    ...(unstarted.length > 0 ? [`etcd members added but never started: ${unstarted.join(" ")}`] : []),
  ];
}

async function rabbitmq(ctx: DrillContext, hosts: ResolvedHost[]): Promise<string[]> {
  const t = ctx.pool.get(hosts[0]?.name ?? "");
  const creds = adminCredentials(ctx.topology, (n) => ctx.secrets[n] ?? "");
  const nodes = await mgmtNodes(t, creds);
  const want = hosts.map((h) => `rabbit@${h.name}`);
  const stopped = nodes.filter((n) => !n.running).map((n) => n.name);
  const gaps = queueGaps(await mgmtQueueMembers(t, creds), want);
  return [
    ...memberProblems(
      "RabbitMQ nodes",
      nodes.map((n) => n.name),
      want,
    ),
    ...(stopped.length > 0 ? [`RabbitMQ nodes not running: ${stopped.join(", ")}`] : []),
    ...(gaps.length > 0
      ? [
          `${gaps.length} quorum queue(s) short of a replica (first: ${gaps[0]?.queue} lacks ${gaps[0]?.missing.join(", ")})`,
        ]
      : []),
  ];
}

async function ovn(ctx: DrillContext, hosts: ResolvedHost[]): Promise<string[]> {
  const problems: string[] = [];
  for (const db of ["nb", "sb"] as const) {
    const want = hosts.map((h) => raftAddress(h, db));
    for (const h of hosts) {
      const argv = clusterStatusCommand(db);
      const r = await ctx.pool.get(h.name).exec(argv, { timeoutMs: 15_000 });
      if (r.code !== 0) {
        problems.push(`${OVN_SCHEMA[db]} on ${h.name}: no cluster status (exit code ${r.code})`);
        continue;
      }
      const status = parseClusterStatus(ctx.pool.get(h.name), argv.join(" "), r.stdout);
      if (status.status !== "cluster member")
        problems.push(`${OVN_SCHEMA[db]} on ${h.name}: ${status.status}`);
      problems.push(
        ...memberProblems(
          `${OVN_SCHEMA[db]} servers seen from ${h.name}`,
          status.servers.map((s) => s.address),
          want,
        ),
      );
    }
  }
  return problems;
}

async function pacemaker(ctx: DrillContext, hosts: ResolvedHost[]): Promise<string[]> {
  const t = ctx.pool.get(hosts[0]?.name ?? "");
  const r = await t.exec(CRM_MON_ARGV, { timeoutMs: 30_000 });
  if (r.code !== 0) return [`crm_mon on ${t.name}: exit code ${r.code}`];
  const mon = parseCrmMon(t, r.stdout);
  const offline = mon.nodes.filter((n) => n.state !== "online").map((n) => `${n.name} (${n.state})`);
  return [
    ...memberProblems(
      "Pacemaker nodes",
      mon.nodes.map((n) => n.name),
      hosts.map((h) => h.name),
    ),
    ...(offline.length > 0 ? [`Pacemaker nodes not online: ${offline.join(", ")}`] : []),
  ];
}

async function galera(ctx: DrillContext, hosts: ResolvedHost[]): Promise<string[]> {
  const problems: string[] = [];
  for (const h of hosts) {
    const s = await globalStatus(ctx.pool.get(h.name), ["wsrep_cluster_size", "wsrep_local_state_comment"]);
    if (s?.wsrep_cluster_size !== String(hosts.length) || s.wsrep_local_state_comment !== "Synced")
      problems.push(
        `Galera on ${h.name}: cluster size ${s?.wsrep_cluster_size ?? "?"}, ${s?.wsrep_local_state_comment ?? "no answer"}`,
      );
  }
  return problems;
}

/** Every membership problem found, each naming its cluster; [] when all are exactly the controllers. */
export async function membershipProblems(ctx: DrillContext): Promise<string[]> {
  const hosts = ctx.topology.hosts.filter((h) => ctx.topology.roles.controller.includes(h.name));
  const checks: [string, (c: DrillContext, h: ResolvedHost[]) => Promise<string[]>][] = [
    ["etcd", etcd],
    ["RabbitMQ", rabbitmq],
    ["Pacemaker", pacemaker],
    ["Galera", galera],
  ];
  // OVN's databases exist only where Neutron is deployed with ML2/OVN.
  if (ctx.topology.openstack.enabled.includes("neutron")) checks.push(["OVN", ovn]);
  const out: string[] = [];
  for (const [name, check] of checks)
    out.push(
      ...(await check(ctx, hosts).catch((e: unknown) => [`${name}: cannot read members: ${error(e)}`])),
    );
  return out;
}
