/**
 * @module
 * OVN's northbound and southbound databases clustered with Raft on the controllers, one
 * controller at a time in inventory order: the first creates each cluster, each next one joins
 * it (its /etc/default/ovn-central, ovn-central.ts, says how) and is done when it is a member,
 * sees a leader, and answers clients on its management address. northd runs on each.
 */
import { enabledOf, inactiveOf, startDeliberately, systemctl } from "../../hostkit/systemd.ts";
import { lastLine } from "../../util/text.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { clusterProblems, parseClusterStatus } from "./cluster-status.ts";
import {
  clusterStatusCommand,
  OVN_CLIENT_PORT,
  OVN_DB_UNITS,
  OVN_SCHEMA,
  type OvnDb,
  ovnServers,
  raftAddress,
} from "./ovn-central.ts";
import { prepareOvnRejoin } from "./ovn-rejoin.ts";

export const OVN_CENTRAL_ENABLED = ["ovn-central.service"];
export const OVN_CENTRAL_RUNNING = [OVN_DB_UNITS.nb, OVN_DB_UNITS.sb, "ovn-northd.service"];
/** A joining server needs the leader's snapshot; ovn-ctl also upgrades the schema first. */
const JOIN_WAIT_MS = 180_000;

/**
 * The members this host must see: the controllers up to and including itself (the later ones
 * have not joined yet on a first run), and none that is not a controller. [] when that holds.
 */
export async function dbProblems(ctx: StepContext, db: OvnDb): Promise<string[]> {
  const r = await ctx.transport.exec(clusterStatusCommand(db), { timeoutMs: 15_000 });
  // A standalone server has no cluster/status command; a stopped one no control socket.
  if (r.code !== 0)
    return [`${db}: not clustered (${lastLine(r.stderr || r.stdout) || `exit code ${r.code}`})`];
  const servers = ovnServers(ctx.topology);
  const upTo = servers.findIndex((h) => h.name === ctx.host.name);
  const expected = servers.slice(0, upTo + 1).map((h) => raftAddress(h, db));
  const known = servers.map((h) => raftAddress(h, db));
  const status = parseClusterStatus(ctx.transport, clusterStatusCommand(db).join(" "), r.stdout);
  const problems = clusterProblems(status, known).filter((p) => !p.startsWith("not members"));
  const missing = expected.filter((a) => !status.servers.some((s) => s.address === a));
  if (missing.length > 0) problems.push(`not members: ${missing.join(", ")}`);
  // The client listener on the management address (a command-line remote of this server).
  const url = `tcp:${ctx.host.ip}:${OVN_CLIENT_PORT[db]}`;
  const dbs = await ctx.transport.exec(["ovsdb-client", "--timeout=10", "list-dbs", url], {
    timeoutMs: 15_000,
  });
  if (dbs.code !== 0 || !dbs.stdout.split("\n").includes(OVN_SCHEMA[db]))
    problems.push(`no ${OVN_SCHEMA[db]} at ${url}`);
  return problems.map((p) => (p.startsWith(`${db}:`) ? p : `${db}: ${p}`));
}

async function ovnProblems(ctx: StepContext): Promise<string[]> {
  const on = await enabledOf(ctx.transport, OVN_CENTRAL_ENABLED);
  const problems = OVN_CENTRAL_ENABLED.filter((u) => !on.includes(u)).map((u) => `${u} not enabled`);
  const stopped = await inactiveOf(ctx.transport, OVN_CENTRAL_RUNNING);
  problems.push(...stopped.map((u) => `${u} not running`));
  for (const db of ["nb", "sb"] as const)
    if (!stopped.includes(OVN_DB_UNITS[db])) problems.push(...(await dbProblems(ctx, db)));
  return problems;
}

export function ovnClusterStep(hosts: string[]): StepSpec {
  return {
    id: "ovn",
    title:
      "OVN NB and SB databases as Raft clusters of the controllers (the first creates, the others join, one at a time); northd on each",
    on: "serial",
    hosts,
    timeoutMs: JOIN_WAIT_MS + 120_000,
    async check(ctx) {
      const problems = await ovnProblems(ctx);
      if (problems.length > 0) ctx.log.info(lastLine(problems.join("; "), 400));
      return problems.length === 0;
    },
    async apply(ctx) {
      // A reinstalled controller: its old servers kicked, its new ones joined (ovn-rejoin.ts).
      for (const db of ["nb", "sb"] as const) await prepareOvnRejoin(ctx, db);
      const on = await enabledOf(ctx.transport, OVN_CENTRAL_ENABLED);
      if (on.length < OVN_CENTRAL_ENABLED.length)
        await systemctl(ctx.transport, "enable", OVN_CENTRAL_ENABLED);
      const stopped = await inactiveOf(ctx.transport, OVN_CENTRAL_RUNNING);
      // A server running standalone (the package's first start, before our OVN_CTL_OPTS) is
      // restarted: ovn-ctl then backs its file up and creates or joins the cluster.
      const standalone: string[] = [];
      for (const db of ["nb", "sb"] as const) {
        if (stopped.includes(OVN_DB_UNITS[db])) continue;
        const r = await ctx.transport.exec(clusterStatusCommand(db), { timeoutMs: 15_000 });
        if (r.code !== 0) standalone.push(OVN_DB_UNITS[db]);
      }
      if (standalone.length > 0) {
        ctx.log.info(`restarting ${standalone.join(" ")}: running without a cluster`);
        await startDeliberately(ctx.transport, "restart", standalone);
      }
      if (stopped.length > 0)
        await startDeliberately(ctx.transport, "start", ["ovn-central.service", ...stopped]);
      await waitUntil(
        ctx,
        "see this controller in OVN's clusters",
        async () => {
          const problems = await ovnProblems(ctx);
          return problems.length === 0 ? true : problems.join("; ");
        },
        { timeoutMs: JOIN_WAIT_MS, intervalMs: 3000 },
      );
    },
  };
}
