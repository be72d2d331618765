/**
 * @module
 * A controller that comes back without its OVN databases (reinstalled after its disk died). Its
 * old Raft server is still a member of each cluster at the same address: left there, a new server
 * joining at that address would make a cluster of four with one that never answers (a quorum of
 * 3 of 4, where one more loss stops OVN), and the first controller would not join at all but
 * create a cluster of its own (its OVN_CTL_OPTS name no remote: on a first deploy it founds the
 * cluster). So the old server is kicked out through a member that runs, and this host joins the
 * others with `ovsdb-tool join-cluster` before ovn-ctl starts it (it then finds a clustered file
 * and only runs it).
 */
import { systemctl } from "../../hostkit/systemd.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLine } from "../../util/text.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext } from "../types.ts";
import { type ClusterStatus, parseClusterStatus } from "./cluster-status.ts";
import {
  clusterStatusCommand,
  OVN_CTL_SOCKET,
  OVN_DB_FILE,
  OVN_DB_UNITS,
  OVN_SCHEMA,
  type OvnDb,
  ovnServers,
  raftAddress,
} from "./ovn-central.ts";

/** The first peer that answers as a cluster member, with its view; undefined when none does. */
async function peerView(
  ctx: StepContext,
  db: OvnDb,
): Promise<{ host: string; status: ClusterStatus } | undefined> {
  for (const h of ovnServers(ctx.topology)) {
    if (h.name === ctx.host.name) continue;
    // A peer this run has no connection to (a test's scripted host) is one that cannot answer.
    const r = await Promise.resolve()
      .then(() => ctx.peer(h.name).exec(clusterStatusCommand(db), { timeoutMs: 15_000, signal: ctx.signal }))
      .catch(() => undefined);
    if (r?.code !== 0) continue;
    const status = parseClusterStatus(ctx.peer(h.name), clusterStatusCommand(db).join(" "), r.stdout);
    if (status.status === "cluster member") return { host: h.name, status };
  }
  return undefined;
}

/** This host's database, set aside or joined so that ovn-ctl only has to start it. */
export async function prepareOvnRejoin(ctx: StepContext, db: OvnDb): Promise<void> {
  const file = OVN_DB_FILE[db];
  const clustered = await ctx.transport.exec(["ovsdb-tool", "db-is-clustered", file], { timeoutMs: 15_000 });
  if (clustered.code === 0) return;
  const view = await peerView(ctx, db);
  if (!view) return;
  const me = raftAddress(ctx.host, db);
  const stale = view.status.servers.filter((s) => s.address === me);
  const first = ovnServers(ctx.topology)[0]?.name === ctx.host.name;
  if (stale.length === 0 && !first) return;
  for (const s of stale) {
    ctx.log.warn(
      `${OVN_SCHEMA[db]} on ${ctx.host.name} has no clustered database, but server ${s.sid} at ${me} is still a member: kicking it through ${view.host}`,
    );
    const kick = await ctx
      .peer(view.host)
      .exec(["ovn-appctl", "-t", OVN_CTL_SOCKET[db], "cluster/kick", OVN_SCHEMA[db], s.sid], {
        timeoutMs: 30_000,
      });
    if (kick.code !== 0)
      throw new HastackError(
        "E_OVN_CLUSTER",
        `Cannot kick the old ${OVN_SCHEMA[db]} server ${s.sid} of ${ctx.host.name} through ${view.host}: exit code ${kick.code}: ${lastLine(kick.stderr || kick.stdout)}`,
      );
  }
  await waitUntil(
    ctx,
    `see the old ${OVN_SCHEMA[db]} server of ${ctx.host.name} gone`,
    async () => {
      const now = await peerView(ctx, db);
      const left = now?.status.servers.filter((s) => s.address === me) ?? [];
      return now && left.length === 0
        ? true
        : `still a member: ${left.map((s) => s.sid).join(", ") || "no view"}`;
    },
    { timeoutMs: 60_000, intervalMs: 2000 },
  );
  const remotes = (await peerView(ctx, db))?.status.servers.map((s) => s.address) ?? [];
  await systemctl(ctx.transport, "stop", [OVN_DB_UNITS[db]]);
  // A standalone file (the package's or an earlier start's) is kept beside, never deleted.
  await ctx.run(["sh", "-c", `if [ -e "$1" ]; then mv "$1" "$1.standalone-$(date +%s)"; fi`, "sh", file]);
  ctx.log.info(`joining ${OVN_SCHEMA[db]} at ${remotes.join(" ")} as ${me}`);
  await ctx.run(["ovsdb-tool", "join-cluster", file, OVN_SCHEMA[db], me, ...remotes]);
}
