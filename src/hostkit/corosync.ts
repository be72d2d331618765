/**
 * @module
 * Corosync's own view of membership, apart from Pacemaker's: `corosync-quorumtool -s` (votes,
 * quorum, members) and `corosync-cfgtool -s` (each knet link's state towards each node), parsed
 * through zod. Pacemaker only sees a node as online or not; a node reached over one of two links,
 * or a vote count that no longer leaves a spare, shows here first.
 */
import { z } from "zod";
import type { Transport } from "../transport/types.ts";
import { parseToolOutput } from "./command.ts";

const Num = z
  .string()
  .regex(/^\d+$/)
  .transform((v) => Number(v));

const QuorumData = z.object({
  fields: z.object({
    Nodes: Num,
    "Node ID": Num,
    "Ring ID": z.string(),
    Quorate: z.enum(["Yes", "No"]).transform((v) => v === "Yes"),
    "Expected votes": Num,
    "Total votes": Num,
    Quorum: Num,
    Flags: z.string().default(""),
  }),
  members: z
    .array(z.object({ nodeid: Num, votes: Num, name: z.string(), local: z.boolean() }))
    .min(1, "no member listed"),
});

export interface QuorumStatus {
  quorate: boolean;
  nodeId: number;
  ringId: string;
  expectedVotes: number;
  totalVotes: number;
  /** Votes needed for quorum. */
  quorum: number;
  flags: string[];
  members: { nodeid: number; votes: number; name: string; local: boolean }[];
}

/**
 * `corosync-quorumtool -s`: "Key: value" lines, then the membership table
 * (`Nodeid Votes Name`, "(local)" after this node's name). Exit code 2 means "not quorate" and
 * still prints all of this, so the caller parses the text of exit 0 and 2 alike.
 */
export function parseQuorumtool(host: Pick<Transport, "name">, text: string): QuorumStatus {
  const fields: Record<string, string> = {};
  const members: Record<string, unknown>[] = [];
  let table = false;
  for (const line of text.split("\n")) {
    if (/^\s*Nodeid\s+Votes\s+/.test(line)) {
      table = true;
      continue;
    }
    if (table) {
      const m = /^\s*(\d+)\s+(\d+)\s+(?:NR\s+)?(\S+)(\s+\(local\))?\s*$/.exec(line);
      if (m) members.push({ nodeid: m[1], votes: m[2], name: m[3], local: m[4] !== undefined });
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z ]*?):\s+(.*?)\s*$/.exec(line);
    if (kv) fields[kv[1] as string] = kv[2] as string;
  }
  const x = parseToolOutput(host, "corosync-quorumtool -s", QuorumData, { fields, members });
  return {
    quorate: x.fields.Quorate,
    nodeId: x.fields["Node ID"],
    ringId: x.fields["Ring ID"],
    expectedVotes: x.fields["Expected votes"],
    totalVotes: x.fields["Total votes"],
    quorum: x.fields.Quorum,
    flags: x.fields.Flags.split(/\s+/).filter(Boolean),
    members: x.members,
  };
}

const LinksData = z.object({
  localNodeId: Num,
  transport: z.string(),
  links: z
    .array(
      z.object({
        id: Num,
        addr: z.string().min(1),
        peers: z.array(z.object({ nodeid: Num, status: z.string().min(1) })).min(1, "a link with no node"),
      }),
    )
    .min(1, "no LINK ID section"),
});

export interface LinkStatus {
  id: number;
  /** This node's address on the link. */
  addr: string;
  /** Each node as seen over this link: "localhost", "connected", or what else corosync says. */
  peers: { nodeid: number; status: string; up: boolean }[];
}

/**
 * `corosync-cfgtool -s` (corosync 3, knet): "LINK ID n", its address, then one
 * `nodeid: N: status` line per node. A peer is up on a link when corosync says connected
 * (localhost is this node itself).
 */
export function parseCfgtool(
  host: Pick<Transport, "name">,
  text: string,
): { localNodeId: number; links: LinkStatus[] } {
  const head = /Local node ID (\d+), transport (\S+)/.exec(text);
  const links: { id: string; addr: string; peers: { nodeid: string; status: string }[] }[] = [];
  for (const line of text.split("\n")) {
    const link = /^LINK ID (\d+)/.exec(line);
    if (link) {
      links.push({ id: link[1] as string, addr: "", peers: [] });
      continue;
    }
    const current = links.at(-1);
    if (!current) continue;
    const addr = /^\s+addr\s*=\s*(\S+)/.exec(line);
    if (addr) current.addr = addr[1] as string;
    const peer = /^\s+nodeid:?\s+(\d+):\s+(.+?)\s*$/.exec(line);
    if (peer) current.peers.push({ nodeid: peer[1] as string, status: peer[2] as string });
  }
  const x = parseToolOutput(host, "corosync-cfgtool -s", LinksData, {
    localNodeId: head?.[1],
    transport: head?.[2],
    links,
  });
  return {
    localNodeId: x.localNodeId,
    links: x.links.map((l) => ({
      id: l.id,
      addr: l.addr,
      peers: l.peers.map((p) => ({ ...p, up: p.status === "localhost" || p.status === "connected" })),
    })),
  };
}
