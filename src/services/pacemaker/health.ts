import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { checkFencePaths, fenceFailureLines, unfenceable } from "../../hostkit/fence-paths.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import { findAll, findFirst, parseXml, type XmlElement } from "../../util/xml.ts";
import { pacemakerSettings } from "./settings.ts";

/**
 * The cluster as Pacemaker sees it, from the first controller that answers: quorum, DC, nodes,
 * every resource and where it runs, failed actions, fencing devices and the last fence.
 */
export function pacemakerHealth(topology: Topology): ProbeSpec[] {
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
  ];
}

/**
 * A fence device that cannot reach its BMC is harmless until the day it is needed: then the
 * cluster waits for a fence that never succeeds and stops every failover. So status asks the
 * BMCs the way the devices do, and says what a broken path means.
 */
async function probeFencing(ctx: ProbeContext): Promise<ProbeResult> {
  if (!pacemakerSettings(ctx.topology).fencing)
    return { state: "ok", summary: "fencing is off (services.pacemaker.fencing: false): not checked" };
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

async function probeCluster(ctx: ProbeContext, controllers: string[]): Promise<ProbeResult> {
  const errors: string[] = [];
  for (const host of controllers) {
    const result = await ctx
      .exec(host, ["crm_mon", "--output-as=xml", "--one-shot", "--inactive", "--fence-history=1"])
      .catch((error: Error) => ({ code: -1, stdout: "", stderr: error.message }));
    if (result.code === 0 && result.stdout.includes("<pacemaker-result")) {
      return summarize(parseXml(result.stdout), host);
    }
    errors.push(`${host}: ${lastLine(result.stderr, 120) || `exit ${result.code}`}`);
  }
  return { state: "down", summary: `no controller answered crm_mon (${errors.join("; ")})` };
}

export interface ClusterFacts {
  askedOn: string;
  quorum: boolean;
  dc?: string;
  nodes: { name: string; state: "online" | "standby" | "maintenance" | "offline" | "unclean" }[];
  resources: { id: string; agent: string; role: string; failed: boolean; nodes: string[] }[];
  failures: { op: string; node: string; exitReason: string; at: string }[];
  lastFence?: { target: string; action: string; status: string; completed: string };
}

export function clusterFacts(root: XmlElement, askedOn: string): ClusterFacts {
  const dc = findFirst(root, "current_dc");
  const nodes = findAll(findFirst(root, "nodes") ?? root, "node").map((n) => ({
    name: n.attrs.name ?? "?",
    state: nodeState(n),
  }));
  const resources = findAll(findFirst(root, "resources") ?? root, "resource").map((r) => ({
    id: r.attrs.id ?? "?",
    agent: r.attrs.resource_agent ?? "",
    role: r.attrs.role ?? "",
    failed: r.attrs.failed === "true",
    nodes: r.children.filter((c) => c.name === "node").map((c) => c.attrs.name ?? "?"),
  }));
  const failures = findAll(root, "failure").map((f) => ({
    op: f.attrs.op_key ?? f.attrs.id ?? "?",
    node: f.attrs.node ?? "?",
    exitReason: f.attrs.exitreason ?? f.attrs.exitstatus ?? "",
    at: f.attrs["last-rc-change"] ?? "",
  }));
  const fences = findAll(root, "fence_event");
  const last = fences[0];
  const facts: ClusterFacts = {
    askedOn,
    quorum: dc?.attrs.with_quorum === "true",
    nodes,
    resources,
    failures,
  };
  if (dc?.attrs.present === "true" && dc.attrs.name) facts.dc = dc.attrs.name;
  if (last) {
    facts.lastFence = {
      target: last.attrs.target ?? "?",
      action: last.attrs.action ?? "?",
      status: last.attrs.status ?? "?",
      completed: last.attrs.completed ?? last.attrs["last-update"] ?? "",
    };
  }
  return facts;
}

function nodeState(n: XmlElement): ClusterFacts["nodes"][number]["state"] {
  if (n.attrs.unclean === "true") return "unclean";
  if (n.attrs.online !== "true") return "offline";
  if (n.attrs.standby === "true") return "standby";
  if (n.attrs.maintenance === "true") return "maintenance";
  return "online";
}

function summarize(root: XmlElement, askedOn: string): ProbeResult {
  const facts = clusterFacts(root, askedOn);
  const online = facts.nodes.filter((n) => n.state === "online");
  const notOnline = facts.nodes.filter((n) => n.state !== "online");
  const stopped = facts.resources.filter((r) => r.nodes.length === 0 || r.failed);
  const parts = [
    facts.quorum ? "quorate" : "NO QUORUM",
    facts.dc ? `DC ${facts.dc}` : "no DC",
    `${online.length}/${facts.nodes.length} nodes online`,
    ...notOnline.map((n) => `${n.name} ${n.state}`),
    `${facts.resources.length - stopped.length}/${facts.resources.length} resources started`,
    ...stopped.map((r) => `${r.id} ${r.failed ? "FAILED" : "stopped"}`),
  ];
  if (facts.failures.length > 0) parts.push(`${facts.failures.length} failed action(s)`);
  if (facts.lastFence)
    parts.push(`last fence: ${facts.lastFence.action} ${facts.lastFence.target} ${facts.lastFence.status}`);
  const state =
    !facts.quorum || !facts.dc
      ? "down"
      : notOnline.length + stopped.length + facts.failures.length > 0
        ? "degraded"
        : "ok";
  return { state, summary: parts.join(", "), details: { ...facts } };
}
