/**
 * @module
 * Neutron's own probes beyond the API's: each controller's view of OVN's two Raft clusters (a
 * member, a leader known, every controller a member), and every chassis registered in the
 * southbound database (gateways on the controllers, computes), asked of any controller.
 */
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import { controllerNames } from "../hosts.ts";
import { chassisListCommand, parseChassisNames } from "./chassis.ts";
import { type ClusterStatus, clusterProblems, parseClusterStatus } from "./cluster-status.ts";
import { clusterStatusCommand, type OvnDb, ovnServers, raftAddress } from "./ovn-central.ts";

/** ok when this server is a member with a leader and every controller is a member; else down here. */
export function judgeCluster(topology: Topology, db: OvnDb, status: ClusterStatus): ProbeResult {
  const servers = ovnServers(topology);
  const problems = clusterProblems(
    status,
    servers.map((h) => raftAddress(h, db)),
  );
  const byAddress = (address: string) => servers.find((h) => raftAddress(h, db) === address)?.name ?? address;
  const leader =
    status.leader === "self"
      ? byAddress(status.address)
      : byAddress(status.servers.find((s) => s.sid === status.leader)?.address ?? status.leader);
  const summary = `${status.role}, leader ${leader}, ${status.servers.length} members`;
  if (problems.length === 0) return { state: "ok", summary };
  return { state: "down", summary: `${summary}: ${problems.join("; ")}`, details: { problems } };
}

function clusterProbe(topology: Topology, db: OvnDb): ProbeSpec {
  const name = db === "nb" ? "northbound" : "southbound";
  return {
    id: `ovn-${db}`,
    title: `this controller's OVN ${name} database: a Raft member with a leader, every controller a member`,
    on: "each",
    hosts: controllerNames(topology),
    weight: "redundant",
    timeoutMs: 20_000,
    async run(ctx) {
      const host = ctx.host?.name ?? "";
      const argv = clusterStatusCommand(db);
      const r = await ctx.exec(host, argv, { timeoutMs: 15_000 });
      if (r.code !== 0)
        return { state: "down", summary: `not clustered or not running: ${lastLine(r.stderr || r.stdout)}` };
      try {
        return judgeCluster(
          ctx.topology,
          db,
          parseClusterStatus(ctx.transport(host), argv.join(" "), r.stdout),
        );
      } catch (e) {
        return { state: "unknown", summary: e instanceof Error ? e.message : String(e) };
      }
    },
  };
}

/** Every controller and compute is a chassis; none registered is down, some missing degraded. */
export function judgeChassis(topology: Topology, names: readonly string[]): ProbeResult {
  const wanted = [...controllerNames(topology), ...topology.roles.compute];
  const missing = wanted.filter((h) => !names.includes(h));
  const summary = `${wanted.length - missing.length}/${wanted.length} chassis registered`;
  if (missing.length === 0) return { state: "ok", summary };
  return {
    state: missing.length === wanted.length ? "down" : "degraded",
    summary: `${summary}; missing: ${missing.join(", ")}`,
    details: { missing },
  };
}

async function listFromAnyController(ctx: ProbeContext): Promise<string[] | string> {
  const reasons: string[] = [];
  for (const host of controllerNames(ctx.topology)) {
    const r = await ctx.exec(host, chassisListCommand(ctx.topology), { timeoutMs: 25_000 });
    if (r.code === 0) return parseChassisNames(ctx.transport(host), r.stdout);
    reasons.push(`${host}: exit code ${r.code}: ${lastLine(r.stderr)}`);
  }
  return reasons.join("; ") || "no controller";
}

export function neutronProbes(topology: Topology): ProbeSpec[] {
  if (!topology.endpoints.neutron) return [];
  return [
    clusterProbe(topology, "nb"),
    clusterProbe(topology, "sb"),
    {
      id: "chassis",
      title: "every controller (gateway) and compute registered as an OVN chassis in the southbound database",
      on: "once",
      weight: "critical",
      timeoutMs: 90_000,
      async run(ctx) {
        try {
          const names = await listFromAnyController(ctx);
          return typeof names === "string"
            ? { state: "down", summary: names }
            : judgeChassis(ctx.topology, names);
        } catch (e) {
          return { state: "unknown", summary: e instanceof Error ? e.message : String(e) };
        }
      },
    },
  ];
}
