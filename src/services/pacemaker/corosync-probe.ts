import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { type LinkStatus, parseCfgtool, parseQuorumtool, type QuorumStatus } from "../../hostkit/corosync.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";

/**
 * Corosync membership as each controller's corosync sees it (the seeds' `corosync-quorumtool`
 * and `corosync-cfgtool -s`), not inferred from crm_mon: votes against quorum, who is a
 * member, and each knet link's state towards each node.
 */
export function corosyncProbe(topology: Topology): ProbeSpec {
  return {
    id: "corosync",
    title: "Corosync votes, quorum and links",
    on: "each",
    hosts: topology.roles.controller,
    weight: "redundant",
    run: (ctx) => probeCorosync(ctx),
  };
}

async function probeCorosync(ctx: ProbeContext): Promise<ProbeResult> {
  const host = ctx.host?.name ?? "";
  const quorumRun = await ctx.exec(host, ["corosync-quorumtool", "-s"]);
  // Exit 2 is "not quorate" and still prints the whole status.
  if (quorumRun.code !== 0 && quorumRun.code !== 2)
    return {
      state: "down",
      summary: `corosync does not answer: corosync-quorumtool -s exit code ${quorumRun.code}: ${lastLine(quorumRun.stderr || quorumRun.stdout)}`,
    };
  const quorum = parseQuorumtool({ name: host }, quorumRun.stdout);
  const linksRun = await ctx.exec(host, ["corosync-cfgtool", "-s"]);
  if (linksRun.code !== 0 && !linksRun.stdout.includes("LINK ID"))
    return {
      state: "degraded",
      summary: `corosync-cfgtool -s exit code ${linksRun.code}: ${lastLine(linksRun.stderr || linksRun.stdout)}: link state unknown`,
    };
  const links = parseCfgtool({ name: host }, linksRun.stdout).links;
  return judgeCorosync(quorum, links, nodeNames(ctx.topology));
}

/** corosync node ids are the controllers' 1-based indexes (corosync.ts). */
function nodeNames(topology: Topology): Map<number, string> {
  return new Map(topology.hosts.filter((h) => h.controllerIndex > 0).map((h) => [h.controllerIndex, h.name]));
}

/** What is wrong, in the cluster's terms; exported for the tests over captured output. */
export function judgeCorosync(
  quorum: QuorumStatus,
  links: LinkStatus[],
  names: ReadonlyMap<number, string>,
): ProbeResult {
  const name = (id: number) => names.get(id) ?? `node ${id}`;
  const problems: string[] = [];
  const memberIds = new Set(quorum.members.map((m) => m.nodeid));
  const missing = [...names.keys()].filter((id) => !memberIds.has(id)).map(name);
  if (missing.length > 0) problems.push(`not members: ${missing.join(", ")}`);
  if (quorum.totalVotes < quorum.expectedVotes) {
    const spare = quorum.totalVotes - quorum.quorum;
    problems.push(
      `${quorum.totalVotes} of ${quorum.expectedVotes} votes${spare <= 0 ? ": the loss of one more node stops the cluster (no quorum)" : ""}`,
    );
  }
  for (const link of links) {
    for (const peer of link.peers.filter((p) => !p.up)) {
      const other = links.some((l) => l !== link && l.peers.some((p) => p.nodeid === peer.nodeid && p.up));
      problems.push(
        `link ${link.id} (${link.addr}) to ${name(peer.nodeid)} ${peer.status}: ${other ? "it is reached over another link only, no redundancy left" : "no link reaches it"}`,
      );
    }
  }
  const summary = [
    quorum.quorate ? "quorate" : "NOT QUORATE",
    `${quorum.totalVotes}/${quorum.expectedVotes} votes (quorum ${quorum.quorum})`,
    `members ${quorum.members.map((m) => name(m.nodeid)).join(", ")}`,
    `${links.length} link(s)`,
    ...problems,
  ].join(", ");
  const details = { quorum, links };
  if (!quorum.quorate)
    return {
      state: "down",
      summary: `${summary}: this node is in a partition without quorum, Pacemaker stops its resources here`,
      details,
    };
  return { state: problems.length > 0 ? "degraded" : "ok", summary, details };
}
