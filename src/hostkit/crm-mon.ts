/**
 * @module
 * Pacemaker's own view of the cluster through `crm_mon --output-as=xml`, parsed through zod
 * (crm-mon-schema.ts): the one reader of crm_mon for status probes, deploy steps and drills. A
 * crm_mon that answers another shape is an E_TOOL_OUTPUT naming what differs, never a node
 * silently read as "offline".
 */
import { z } from "zod";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { parseXml, type XmlElement } from "../util/xml.ts";
import { parseToolOutput } from "./command.ts";
import { CrmMonXml, FenceXml, type NodeXml } from "./crm-mon-schema.ts";

/**
 * What status asks: every resource including stopped ones, and the fence history with the last
 * success of each kind (level 2) so a node shot an hour ago is still named.
 */
export const CRM_MON_ARGV = ["crm_mon", "--output-as=xml", "--one-shot", "--inactive", "--fence-history=2"];

export type NodeState = "online" | "standby" | "maintenance" | "pending" | "offline" | "unclean";

export interface CrmNode {
  name: string;
  id: string;
  state: NodeState;
  isDc: boolean;
  resourcesRunning: number;
  /** member, remote, ping... */
  type: string;
}

export interface CrmResource {
  id: string;
  /** class:provider:type, e.g. ocf:heartbeat:IPaddr2, stonith:fence_ipmilan, systemd:haproxy. */
  agent: string;
  /** Started, Stopped, Promoted, Unpromoted, Starting... as Pacemaker names it. */
  role: string;
  active: boolean;
  failed: boolean;
  managed: boolean;
  blocked: boolean;
  orphaned: boolean;
  /** Nodes it is active on (a clone instance has one, a stopped resource none). */
  nodes: string[];
  parent?: string;
}

export interface CrmFailure {
  /** e.g. fence-ctl3_start_0 */
  op: string;
  node: string;
  task?: string;
  exitCode: number;
  exitStatus: string;
  exitReason: string;
  /** complete, Timed Out, Error... (execution status, apart from the agent's exit code). */
  status: string;
  at?: string;
}

export interface CrmFenceEvent {
  action: string;
  target: string;
  status: "failed" | "success" | "pending";
  /** The node that carried it out. */
  delegate?: string;
  origin: string;
  client: string;
  completed?: string;
  exitReason?: string;
}

export interface CrmMon {
  /** The controller that answered. */
  askedOn: string;
  quorum: boolean;
  dc?: string;
  stonithEnabled: boolean;
  maintenanceMode: boolean;
  noQuorumPolicy: string;
  nodes: CrmNode[];
  resources: CrmResource[];
  failures: CrmFailure[];
  /** Most recent first, as crm_mon lists it. */
  fenceHistory: CrmFenceEvent[];
  bans: { id: string; resource: string; node: string; weight: number }[];
}

function children(parent: XmlElement | undefined, name: string): XmlElement[] {
  return parent?.children.filter((c) => c.name === name) ?? [];
}

function child(parent: XmlElement | undefined, name: string): XmlElement | undefined {
  return children(parent, name)[0];
}

/** Primitives wherever they sit: top level, in a group, a clone, a clone of a group, a bundle replica. */
function resourcesOf(element: XmlElement, parent?: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const c of element.children) {
    if (c.name === "resource") {
      const nodes = children(c, "node").map((n) => n.attrs.name);
      out.push({ ...c.attrs, nodes, ...(parent ? { parent } : {}) });
    } else if (["clone", "group", "bundle", "replica"].includes(c.name)) {
      // The top-level container names the resource in the CIB (a group inside a clone: the clone).
      out.push(...resourcesOf(c, parent ?? c.attrs.id));
    }
  }
  return out;
}

/** The elements as plain data for the schema; the schema, not this walk, decides what is valid. */
function toData(root: XmlElement): unknown {
  const summary = child(root, "summary");
  const fence = child(root, "fence_history");
  return {
    summary: {
      current_dc: child(summary, "current_dc")?.attrs,
      cluster_options: child(summary, "cluster_options")?.attrs,
    },
    nodes: children(child(root, "nodes"), "node").map((n) => n.attrs),
    resources: resourcesOf(child(root, "resources") ?? { name: "", attrs: {}, children: [], text: "" }),
    failures: children(child(root, "failures"), "failure").map((f) => f.attrs),
    fence_history: children(fence, "fence_event").map((f) => f.attrs),
    bans: children(child(root, "bans"), "ban").map((b) => b.attrs),
  };
}

function nodeState(n: z.output<typeof NodeXml>): NodeState {
  if (n.unclean) return "unclean";
  if (!n.online) return "offline";
  if (n.pending) return "pending";
  if (n.standby) return "standby";
  if (n.maintenance) return "maintenance";
  return "online";
}

/**
 * Reads one `crm_mon --output-as=xml` answer. `host` names the controller that answered, for
 * the facts and for the error when the answer is not crm_mon's documented shape.
 */
export function parseCrmMon(host: Pick<Transport, "name">, text: string): CrmMon {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (error) {
    throw new HastackError("E_TOOL_OUTPUT", `Cannot read crm_mon's answer on ${host.name}: not XML`, {
      cause: error,
    });
  }
  if (root.name !== "pacemaker-result")
    throw new HastackError(
      "E_TOOL_OUTPUT",
      `Cannot read crm_mon's answer on ${host.name}: <${root.name}> where <pacemaker-result> was expected`,
    );
  const x = parseToolOutput(host, "crm_mon", CrmMonXml, toData(root));
  const dc = x.summary.current_dc;
  const options = x.summary.cluster_options;
  const out: CrmMon = {
    askedOn: host.name,
    quorum: dc.present && dc.with_quorum === true,
    stonithEnabled: options["stonith-enabled"] ?? options["fencing-enabled"] ?? true,
    maintenanceMode: options["maintenance-mode"],
    noQuorumPolicy: options["no-quorum-policy"],
    nodes: x.nodes.map((n) => ({
      name: n.name,
      id: n.id,
      state: nodeState(n),
      isDc: n.is_dc,
      resourcesRunning: n.resources_running,
      type: n.type,
    })),
    resources: x.resources.map((r) => ({
      id: r.id,
      agent: r.resource_agent,
      role: r.role,
      active: r.active,
      failed: r.failed,
      managed: r.managed,
      blocked: r.blocked,
      orphaned: r.orphaned,
      nodes: r.nodes,
      ...(r.parent ? { parent: r.parent } : {}),
    })),
    failures: x.failures.map((f) => ({
      op: f.op_key ?? f.id ?? "",
      node: f.node,
      exitCode: f.exitcode,
      exitStatus: f.exitstatus,
      exitReason: f.exitreason,
      status: f.status,
      ...(f.task ? { task: f.task } : {}),
      ...(f["last-rc-change"] ? { at: f["last-rc-change"] } : {}),
    })),
    fenceHistory: x.fence_history.map(fenceEvent),
    bans: x.bans,
  };
  if (dc.present && dc.name) out.dc = dc.name;
  return out;
}

function fenceEvent(e: z.output<typeof FenceXml>): CrmFenceEvent {
  return {
    action: e.action,
    target: e.target,
    status: e.status,
    origin: e.origin,
    client: e.client,
    ...(e.delegate ? { delegate: e.delegate } : {}),
    ...(e.completed ? { completed: e.completed } : {}),
    ...(e["exit-reason"] ? { exitReason: e["exit-reason"] } : {}),
  };
}

/** `stonith_admin --history NODE --output-as=xml`: the events in its "fencing history" list. */
export function parseFenceHistory(host: Pick<Transport, "name">, text: string): CrmFenceEvent[] {
  const root = parseXml(text);
  const list = children(root, "list").find((l) => l.attrs.name === "fencing history");
  const data = {
    present: list !== undefined,
    events: children(list, "fence_event").map((e) => e.attrs),
  };
  const x = parseToolOutput(
    host,
    "stonith_admin --history",
    z.object({ present: z.literal(true, "no fencing history list"), events: z.array(FenceXml) }),
    data,
  );
  return x.events.map(fenceEvent);
}

/** A fence event's `completed` ("2026-12-02 11:20:41.069439Z") in ms since the epoch. */
export function completedAt(completed: string): number {
  return Date.parse(completed.replace(" ", "T").replace(/(\.\d{3})\d*Z$/, "$1Z"));
}

/** Resources by the name the CIB gives them: a clone's instances count once, under the clone's id. */
export function resourceNames(mon: CrmMon): string[] {
  return [...new Set(mon.resources.map((r) => r.parent ?? r.id))];
}
