/**
 * @module
 * A controller that comes back without its etcd data (reinstalled after its disk died) cannot
 * start as the member it was: etcd refuses a member whose data directory is gone ("member ...
 * has already been bootstrapped"), and the cluster still lists the old member, which counts
 * against the quorum for as long as it stays. The way etcd documents it: remove the old member,
 * add a new one with the same peer URL, start it with `initial-cluster-state existing` so it
 * takes the cluster's state from its peers instead of founding a cluster.
 */
import { memberList } from "../../hostkit/etcd.ts";
import { systemctl } from "../../hostkit/systemd.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLine } from "../../util/text.ts";
import { controllers } from "../hosts.ts";
import type { StepContext } from "../types.ts";
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from "./settings.ts";

/** Where a member keeps its Raft log and snapshots (ETCD_DATA_DIR/member). */
export const ETCD_MEMBER_DIR = "/var/lib/etcd/default/member";
/**
 * A runtime drop-in (gone at the next boot) that runs etcd with ETCD_INITIAL_CLUSTER_STATE
 * replaced in its environment. Not the flag: etcd 3.5 exits at once when a flag and the
 * environment set the same option ("conflicting environment variable is shadowed", seen on the
 * lab). etcd reads the setting only while the data directory is empty, so a restart after the
 * join ignores it.
 */
export const REJOIN_DROPIN = "/run/systemd/system/etcd.service.d/50-hastack-rejoin.conf";

export type RejoinAction =
  | { kind: "none"; why: string }
  | { kind: "replace"; staleId: string; staleName: string }
  | { kind: "add" }
  | { kind: "start-added"; id: string };

/** What a host without etcd data must do, from the cluster's member list; pure, for tests. */
export function rejoinAction(
  members: readonly { ID: string; name: string; peerURLs: readonly string[] }[],
  peerUrl: string,
): RejoinAction {
  if (members.length === 0) return { kind: "none", why: "no cluster answers yet (a first deploy)" };
  const mine = members.find((m) => m.peerURLs.includes(peerUrl));
  if (!mine) return { kind: "add" };
  // An added member that never started has no name: it is this host's, waiting for it.
  if (mine.name === "") return { kind: "start-added", id: mine.ID };
  return { kind: "replace", staleId: mine.ID, staleName: mine.name };
}

/**
 * Whether the member directory exists. Not `Transport.stat`: it answers for regular files only,
 * and took the directory for missing, which made a member that was only stopped look like one
 * without data, to be removed and added anew.
 */
export async function hasMemberData(t: Transport, dir = ETCD_MEMBER_DIR): Promise<boolean> {
  const r = await t.exec(["test", "-d", dir], { timeoutMs: 15_000 });
  if (r.code === 0) return true;
  if (r.code === 1) return false;
  throw new HastackError(
    "E_ETCD",
    `Cannot tell whether ${dir} exists on ${t.name}: test exited with code ${r.code}`,
  );
}

/**
 * Before etcd starts on a host with no data: true when this host joins a running cluster (the
 * drop-in is in place), false when there is no cluster to join (every member starts together).
 */
export async function prepareRejoin(ctx: StepContext): Promise<boolean> {
  if (await hasMemberData(ctx.transport)) return false;
  const peers = controllers(ctx.topology).filter((h) => h.name !== ctx.host.name);
  const endpoints = peers.map((h) => `http://${h.ip}:${ETCD_CLIENT_PORT}`);
  if (endpoints.length === 0) return false;
  const members = await memberList(ctx.transport, endpoints, { signal: ctx.signal }).catch(() => []);
  const peerUrl = `http://${ctx.host.ip}:${ETCD_PEER_PORT}`;
  const action = rejoinAction(members, peerUrl);
  if (action.kind === "none") return false;
  const etcdctl = ["etcdctl", `--endpoints=${endpoints.join(",")}`, "--command-timeout=10s"];
  if (action.kind === "replace") {
    ctx.log.warn(
      `etcd on ${ctx.host.name} has no data but the cluster lists member ${action.staleName} (${BigInt(action.staleId).toString(16)}) at ${peerUrl}: removing that member and adding this host anew`,
    );
    await etcdMember(ctx, [...etcdctl, "member", "remove", BigInt(action.staleId).toString(16)], "remove");
  }
  if (action.kind !== "start-added")
    await etcdMember(ctx, [...etcdctl, "member", "add", ctx.host.name, `--peer-urls=${peerUrl}`], "add");
  await ctx.transport.writeFile(
    REJOIN_DROPIN,
    [
      "# Written by hastack: this member joins a running cluster (its data directory was empty).",
      "[Service]",
      "ExecStart=",
      "ExecStart=/usr/bin/env ETCD_INITIAL_CLUSTER_STATE=existing /usr/bin/etcd $DAEMON_ARGS",
      "",
    ].join("\n"),
    { owner: "root", group: "root", mode: 0o644 },
  );
  await systemctl(ctx.transport, "daemon-reload", []);
  return true;
}

/** After the start: the drop-in goes, so nothing but the environment file says how etcd runs. */
export async function finishRejoin(ctx: StepContext): Promise<void> {
  await ctx.run(["rm", "-f", REJOIN_DROPIN]);
  await systemctl(ctx.transport, "daemon-reload", []);
}

async function etcdMember(ctx: StepContext, argv: string[], verb: "add" | "remove"): Promise<void> {
  const r = await ctx.transport.exec(argv, { timeoutMs: 30_000, signal: ctx.signal });
  if (r.code !== 0)
    throw new HastackError(
      "E_ETCD",
      `Cannot ${verb} the etcd member of ${ctx.host.name}: exit code ${r.code}: ${lastLine(r.stderr || r.stdout)}`,
      { hint: "the other members must have a quorum: see `etcdctl member list` on them" },
    );
}
