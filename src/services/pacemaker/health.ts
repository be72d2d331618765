import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { CRM_MON_ARGV, type CrmMon, parseCrmMon } from "../../hostkit/crm-mon.ts";
import { checkFencePaths, fenceFailureLines, unfenceable } from "../../hostkit/fence-paths.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import { cibProbe } from "./cib-probe.ts";
import { corosyncProbe } from "./corosync-probe.ts";
import { pacemakerSettings } from "./settings.ts";

/**
 * The cluster as Pacemaker sees it, from the first controller that answers: quorum, DC, nodes,
 * every resource and where it runs, failed actions, fencing devices and the last fence.
 */
export function pacemakerHealth(topology: Topology, render?: () => string): ProbeSpec[] {
  return [
    {
      id: "cluster",
      title: "Pacemaker cluster",
      on: "once",
      weight: "critical",
      timeoutMs: 15_000,
      run: (ctx) => probeCluster(ctx, topology.roles.controller),
    },
    {
      id: "fencing",
      title: "Every controller can be fenced (each other controller asks its BMC)",
      on: "once",
      weight: "critical",
      // ipmitool gives an unreachable BMC ~6 s and every path is asked at once, but on a loaded
      // site one path took 18.7 s: a probe timeout would read as "down" (critical).
      timeoutMs: 30_000,
      run: (ctx) => probeFencing(ctx),
    },
    corosyncProbe(topology),
    cibProbe(topology, render),
  ];
}

/**
 * A fence device that cannot reach its BMC is harmless until the day it is needed: then the
 * cluster waits for a fence that never succeeds and stops every failover. So status asks the
 * BMCs the way the devices do, and says what a broken path means.
 */
async function probeFencing(ctx: ProbeContext): Promise<ProbeResult> {
  if (!pacemakerSettings(ctx.topology).fencing)
    return {
      state: "ok",
      summary: "fencing is off (services.pacemaker.fencing: false): BMC paths not checked",
      warnings: [fencingOffWarning(ctx.topology)],
    };
  const paths = await checkFencePaths({
    topology: ctx.topology,
    secret: (name) => {
      try {
        return ctx.secret(name);
      } catch {
        return undefined;
      }
    },
    exec: (host, argv, opts) => ctx.exec(host, argv, opts),
  });
  const details = { paths: paths.map(({ hint: _, ...p }) => ({ ...p, ms: Math.round(p.ms) })) };
  const broken = unfenceable(paths);
  if (broken.length === 0) {
    const slowest = Math.max(0, ...paths.map((p) => p.ms));
    return {
      state: "ok",
      summary: `${paths.length} controller-to-BMC paths answer (slowest ${(slowest / 1000).toFixed(2)} s)`,
      details,
    };
  }
  const lines = fenceFailureLines(paths);
  const consequences = broken.map((h) => `${h} cannot be fenced: a failure of ${h} would stop failover`);
  return { state: "degraded", summary: `${consequences.join("; ")} (${lines.join("; ")})`, details };
}

/** The waiver's words, repeated on every run: fencing off is a decision, not a default. */
export function fencingOffWarning(topology: Topology): string {
  const why = topology.waivers.fencing ?? "no waiver given";
  return `fencing is off (waived: ${why}): a hung controller keeps its VIP and writes while another takes over (split brain)`;
}

async function probeCluster(ctx: ProbeContext, controllers: string[]): Promise<ProbeResult> {
  const errors: string[] = [];
  for (const host of controllers) {
    const result = await ctx
      .exec(host, CRM_MON_ARGV)
      .catch((error: Error) => ({ code: -1, stdout: "", stderr: error.message }));
    if (result.code === 0) return summarize(parseCrmMon({ name: host }, result.stdout), ctx.topology);
    errors.push(`${host}: ${lastLine(result.stderr, 120) || `exit ${result.code}`}`);
  }
  return { state: "down", summary: `no controller answered crm_mon (${errors.join("; ")})` };
}

/**
 * Fence events that still matter: a failed or pending fence of a node not fenced successfully
 * since (crm_mon lists pending first, then newest first, one event per kind and target).
 */
export function openFences(mon: CrmMon): CrmMon["fenceHistory"] {
  const seen = new Set<string>();
  const open: CrmMon["fenceHistory"] = [];
  for (const e of mon.fenceHistory) {
    if (e.status === "pending") open.push(e);
    else if (!seen.has(e.target) && e.status === "failed") open.push(e);
    if (e.status !== "pending") seen.add(e.target);
  }
  return open;
}

function summarize(mon: CrmMon, topology: Topology): ProbeResult {
  const fencingWanted = pacemakerSettings(topology).fencing;
  const online = mon.nodes.filter((n) => n.state === "online");
  const notOnline = mon.nodes.filter((n) => n.state !== "online");
  const stopped = mon.resources.filter((r) => r.nodes.length === 0 || r.failed);
  const fences = openFences(mon);
  const problems: string[] = [];
  if (mon.maintenanceMode)
    problems.push("maintenance-mode=true: Pacemaker starts, stops and moves nothing, so no failover happens");
  if (!mon.stonithEnabled && fencingWanted)
    problems.push(
      "stonith-enabled=false on the live cluster while the inventory has fencing on (set by hand?): no node will be fenced, a hung controller keeps its VIP (E17)",
    );
  for (const f of fences)
    problems.push(
      `fence ${f.action} of ${f.target} ${f.status}${f.exitReason ? ` (${f.exitReason})` : ""}: its resources cannot move until it is fenced`,
    );
  const last = mon.fenceHistory.find((e) => e.status === "success");
  const parts = [
    mon.quorum ? "quorate" : "NO QUORUM",
    mon.dc ? `DC ${mon.dc}` : "no DC",
    `${online.length}/${mon.nodes.length} nodes online`,
    ...notOnline.map((n) => `${n.name} ${n.state}`),
    `${mon.resources.length - stopped.length}/${mon.resources.length} resources started`,
    ...stopped.map((r) => `${r.id} ${r.failed ? "FAILED" : "stopped"}`),
    ...problems,
  ];
  if (mon.failures.length > 0) parts.push(`${mon.failures.length} failed action(s)`);
  if (last)
    parts.push(
      `last fence: ${last.action} ${last.target} ${last.status}${last.completed ? ` ${last.completed}` : ""}`,
    );
  const state =
    !mon.quorum || !mon.dc
      ? "down"
      : notOnline.length + stopped.length + mon.failures.length + problems.length > 0
        ? "degraded"
        : "ok";
  // Fencing off by the inventory (waived) is the fencing probe's warning, not repeated here.
  return { state, summary: parts.join(", "), details: { ...mon } };
}
