/**
 * @module
 * Where OVN's northbound and southbound databases are, and how Debian's ovn-central is told to
 * run them as Raft clusters across the controllers. Its units (ovn-ovsdb-server-nb/-sb,
 * ovn-northd) all pass /etc/default/ovn-central's OVN_CTL_OPTS to ovn-ctl, which reads every
 * `--name=value` into its variable of that name (checked against ovn-ctl of OVN 23.03): the
 * cluster options only matter to the database servers, the northd ones only to northd.
 */
import type { ConfigDoc } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import { controllers } from "../hosts.ts";

export type OvnDb = "nb" | "sb";

/** Client ports (ovn-ctl's defaults, what Neutron and ovn-controller connect to). */
export const OVN_CLIENT_PORT: Record<OvnDb, number> = { nb: 6641, sb: 6642 };
/** Raft ports between the servers (ovn-ctl's --db-nb/sb-cluster-local-port defaults). */
export const OVN_RAFT_PORT: Record<OvnDb, number> = { nb: 6643, sb: 6644 };
export const OVN_SCHEMA: Record<OvnDb, string> = { nb: "OVN_Northbound", sb: "OVN_Southbound" };
/** ovsdb-server's control socket per database (ovn-ctl's DB_NB_CTRL_SOCK under /var/run/ovn). */
export const OVN_CTL_SOCKET: Record<OvnDb, string> = {
  nb: "/var/run/ovn/ovnnb_db.ctl",
  sb: "/var/run/ovn/ovnsb_db.ctl",
};
export const OVN_DB_FILE: Record<OvnDb, string> = {
  nb: "/var/lib/ovn/ovnnb_db.db",
  sb: "/var/lib/ovn/ovnsb_db.db",
};
export const OVN_CENTRAL_DEFAULTS = "/etc/default/ovn-central";
export const OVN_DB_UNITS: Record<OvnDb, string> = {
  nb: "ovn-ovsdb-server-nb.service",
  sb: "ovn-ovsdb-server-sb.service",
};

export function clusterStatusCommand(db: OvnDb): string[] {
  return ["ovn-appctl", "-t", OVN_CTL_SOCKET[db], "cluster/status", OVN_SCHEMA[db]];
}
/**
 * Raft's election timer, set when the cluster is created: ovn-ctl's default of 1 s makes a
 * follower call an election whenever the leader's main loop stalls for a second (a large
 * southbound transaction, a busy 2-core lab host), and each election drops every client.
 */
export const OVN_ELECTION_TIMER_MS = 5000;

/** The controllers in corosync order: the first creates both clusters, the others join it. */
export function ovnServers(topology: Topology): ResolvedHost[] {
  const list = controllers(topology);
  if (list.length === 0)
    throw new HastackError("E_OPENSTACK_SPEC", "Cannot place OVN's databases: the site has no controller", {
      hint: "give at least one host the controller role",
    });
  return list;
}

/** `tcp:IP1:6641,tcp:IP2:6641,...`: every server of a database, as clients list them. */
export function ovnRemotes(topology: Topology, db: OvnDb): string {
  return ovnServers(topology)
    .map((h) => `tcp:${h.ip}:${OVN_CLIENT_PORT[db]}`)
    .join(",");
}

/** `tcp:IP:6643`: a server's Raft address, as `cluster/status` lists it. */
export function raftAddress(host: ResolvedHost, db: OvnDb): string {
  return `tcp:${host.ip}:${OVN_RAFT_PORT[db]}`;
}

/**
 * OVN_CTL_OPTS for one controller. Each server listens for clients on its own management address
 * only (--db-*-create-insecure-remote with --db-*-addr: a command-line remote, per host). The
 * replicated Connection table (`ovn-nbctl set-connection`) cannot do that: its one target is the
 * same on every server, so it could only name 0.0.0.0 or an address two servers do not have.
 * The first controller creates each cluster; the others join it at the first one's Raft
 * address, which ovn-ctl uses only while the database file does not exist yet (it also turns a
 * standalone file, the package's first start, into a backup and a clustered one).
 */
export function ovnCtlOpts(topology: Topology, host: ResolvedHost): string[] {
  const servers = ovnServers(topology);
  const first = servers[0] as ResolvedHost;
  const opts: string[] = [];
  for (const db of ["nb", "sb"] as const) {
    opts.push(
      `--db-${db}-addr=${host.ip}`,
      `--db-${db}-create-insecure-remote=yes`,
      `--db-${db}-cluster-local-addr=${host.ip}`,
      `--db-${db}-election-timer=${OVN_ELECTION_TIMER_MS}`,
    );
    if (host.name !== first.name) opts.push(`--db-${db}-cluster-remote-addr=${first.ip}`);
  }
  // northd runs on every controller; they share one lock in the southbound database, so one is
  // active and the others wait. Each reaches the clusters' leaders through every server.
  opts.push(
    `--ovn-northd-nb-db=${ovnRemotes(topology, "nb")}`,
    `--ovn-northd-sb-db=${ovnRemotes(topology, "sb")}`,
  );
  return opts;
}

export function ovnCentralDefaults(topology: Topology, host: ResolvedHost): ConfigDoc {
  return {
    format: "shell-env",
    header: [
      `Rendered by hastack for ${host.name}: OVN's NB and SB databases as Raft clusters of the controllers.`,
    ],
    sections: [{ name: "", entries: [["OVN_CTL_OPTS", ovnCtlOpts(topology, host).join(" ")]] }],
  };
}
