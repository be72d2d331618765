/**
 * @module
 * `ovn-appctl -t /var/run/ovn/ovn{nb,sb}_db.ctl cluster/status DB`: one server's view of its Raft
 * cluster (ovsdb/raft.c). The first line is the server's short id, then `Key: value` lines, then
 * `Servers:` with one indented line per member (`sid (sid at tcp:IP:PORT) ...`, `(self)` on its
 * own). Captured from ovsdb-server 3.1 in fixtures/: a leader, a follower, a server still joining,
 * one after a member died, and one that lost its quorum.
 */
import { z } from "zod";
import { parseToolOutput } from "../../hostkit/command.ts";
import type { Transport } from "../../transport/types.ts";

const Member = z.object({ sid: z.string(), address: z.string(), self: z.boolean() });

const ClusterStatus = z
  .object({
    Name: z.string().min(1),
    Status: z.string().min(1),
    Role: z.enum(["leader", "follower", "candidate"]),
    Leader: z.string().min(1),
    Address: z.string().min(1),
    servers: z.array(Member),
  })
  .transform((s) => ({
    name: s.Name,
    /** "cluster member", "joining cluster", "disconnected from the cluster (election timeout)"... */
    status: s.Status,
    role: s.Role,
    /** The leader's short id, "self", or "unknown" while there is none. */
    leader: s.Leader,
    address: s.Address,
    servers: s.servers,
  }));
export type ClusterStatus = z.output<typeof ClusterStatus>;

export function parseClusterStatus(t: Pick<Transport, "name">, tool: string, stdout: string): ClusterStatus {
  const fields: Record<string, unknown> = {};
  const servers: z.input<typeof Member>[] = [];
  let inServers = false;
  for (const line of stdout.split("\n")) {
    if (line.startsWith("Servers:")) {
      inServers = true;
      continue;
    }
    if (inServers) {
      const m = /^\s+(\S+) \(\S+ at (\S+)\)( \(self\))?/.exec(line);
      if (m?.[1] && m[2]) servers.push({ sid: m[1], address: m[2], self: m[3] !== undefined });
      continue;
    }
    const kv = /^([A-Z][A-Za-z ]*): (.*)$/.exec(line);
    if (kv?.[1] && kv[2] !== undefined) fields[kv[1]] = kv[2].trim();
  }
  return parseToolOutput(t, tool, ClusterStatus, { ...fields, servers });
}

/**
 * What is wrong with one server's view, given the Raft addresses every controller must have:
 * [] when it is a member, a leader is known, and the members are exactly the controllers.
 */
export function clusterProblems(status: ClusterStatus, expected: readonly string[]): string[] {
  const problems: string[] = [];
  if (status.status !== "cluster member") problems.push(`status: ${status.status}`);
  if (status.leader === "unknown") problems.push("no leader");
  const have = status.servers.map((s) => s.address);
  const missing = expected.filter((a) => !have.includes(a));
  const extra = have.filter((a) => !expected.includes(a));
  if (missing.length > 0) problems.push(`not members: ${missing.join(", ")}`);
  if (extra.length > 0) problems.push(`members not in the inventory: ${extra.join(", ")}`);
  // A reinstalled controller that joined without its old server being kicked: one never answers.
  const twice = [...new Set(have.filter((a, i) => have.indexOf(a) !== i))];
  if (twice.length > 0) problems.push(`several servers at ${twice.join(", ")} (an old one left behind)`);
  return problems;
}
