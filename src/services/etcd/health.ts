import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { type EndpointStatus, endpointStatus, type Member, memberList, putGet } from "../../hostkit/etcd.ts";
import { journalArgv, sections } from "../../hostkit/journal.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import type { DiagnosticSpec } from "../types.ts";

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
    {
      id: "leader",
      title: "Every etcd member follows the same leader",
      on: "once",
      weight: "redundant",
      timeoutMs: 15_000,
      run: (ctx) => probeLeader(ctx, topology),
    },
  ];
}

/**
 * Each member asked on its own endpoint (never through a list, where etcdctl would answer from
 * whichever member it reached): members that name different leaders are split, and the side
 * without the real leader takes no writes while believing it is fine.
 */
async function probeLeader(ctx: ProbeContext, topology: Topology): Promise<ProbeResult> {
  const answers = new Map<string, EndpointStatus | string>();
  let members: Member[] = [];
  await Promise.all(
    topology.hosts
      .filter((h) => topology.roles.controller.includes(h.name))
      .map(async (h) => {
        const t = ctx.transport(h.name);
        const endpoint = [`http://${h.ip}:2379`];
        const status = await endpointStatus(t, endpoint, { signal: ctx.signal }).catch((e: Error) => e);
        answers.set(
          h.name,
          status instanceof Error ? lastLine(status.message, 100) : (status[0] ?? "no answer"),
        );
        if (members.length === 0 && !(status instanceof Error))
          members = await memberList(t, endpoint, { signal: ctx.signal }).catch(() => []);
      }),
  );
  return judgeLeaders(answers, members);
}

/** One leader agreed by all; exported for the tests over captured output. */
export function judgeLeaders(
  answers: ReadonlyMap<string, EndpointStatus | string>,
  members: Member[],
): ProbeResult {
  const name = (id: string) => members.find((m) => m.ID === id)?.name || `member ${BigInt(id).toString(16)}`;
  const byLeader = new Map<string, string[]>();
  const silent: string[] = [];
  for (const [host, a] of answers) {
    if (typeof a === "string") silent.push(`${host} (${a})`);
    else byLeader.set(a.Status.leader, [...(byLeader.get(a.Status.leader) ?? []), host]);
  }
  const leaders = [...byLeader.keys()];
  const views = [...byLeader].map(
    ([id, hosts]) => `${hosts.join(", ")} follow ${id === "0" ? "NO LEADER" : name(id)}`,
  );
  const problems: string[] = [];
  if (leaders.length > 1)
    problems.push(
      `members disagree on the leader (${views.join("; ")}): etcd is split, writes on the side without the leader fail`,
    );
  if (byLeader.has("0"))
    problems.push(`${(byLeader.get("0") ?? []).join(", ")} see no leader: no writes there`);
  if (silent.length > 0) problems.push(`no answer from ${silent.join(", ")}`);
  const agreed = leaders.length === 1 && leaders[0] !== "0" ? leaders[0] : undefined;
  const summary =
    problems.length === 0 && agreed
      ? `${answers.size} members agree: leader ${name(agreed)}, term ${[...answers.values()].map((a) => (typeof a === "string" ? "?" : a.Status.header.raft_term)).join("/")}`
      : problems.join("; ");
  const state = byLeader.size === 0 ? "down" : problems.length > 0 ? "degraded" : "ok";
  return {
    state,
    summary,
    details: { leaders: Object.fromEntries([...byLeader].map(([id, h]) => [name(id), h])) },
  };
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

/** Each member's own view (leader, term, index) and etcd's log in the window. */
export function etcdDiagnostics(topology: Topology): DiagnosticSpec[] {
  return topology.hosts
    .filter((h) => topology.roles.controller.includes(h.name))
    .flatMap((h) => [
      {
        id: "state",
        title: "This member's status (leader, raft term and index)",
        hosts: [h.name],
        argv: () =>
          sections([`etcdctl --endpoints=http://${h.ip}:2379 --command-timeout=3s endpoint status -w table`]),
      },
      {
        id: "journal",
        title: "etcd's log in the window",
        hosts: [h.name],
        argv: (window: { since: string; until: string }) => journalArgv(["etcd"], window),
        timeoutMs: 60_000,
      },
    ]);
}
