import type { HealthState, ProbeResult } from "../../health/types.ts";
import { explainPgState, pgStateHealth } from "./pg-states.ts";
import type { OsdTree, Status } from "./schemas.ts";

/** Pure verdicts over parsed `ceph -f json` answers (unit tested on captured output). */

const ORDER: HealthState[] = ["ok", "unknown", "degraded", "down"];

export function worst(states: HealthState[]): HealthState {
  return states.reduce<HealthState>((w, s) => (ORDER.indexOf(s) > ORDER.indexOf(w) ? s : w), "ok");
}

export interface HostOsds {
  host: string;
  osds: { name: string; up: boolean; in: boolean }[];
}

/** `ceph osd tree`: OSDs under their host buckets; an OSD is "in" while its reweight is above 0. */
export function osdsByHost(tree: OsdTree): HostOsds[] {
  const byId = new Map(tree.nodes.map((n) => [n.id, n]));
  const osd = (id: number) => {
    const n = byId.get(id);
    return n && n.type === "osd" ? [{ name: n.name, up: n.status === "up", in: (n.reweight ?? 0) > 0 }] : [];
  };
  const hosts = tree.nodes
    .filter((n) => n.type === "host")
    .map((h) => ({
      host: h.name,
      osds: (h.children ?? []).flatMap(osd).sort((a, b) => a.name.localeCompare(b.name)),
    }));
  if (tree.stray.length > 0)
    hosts.push({ host: "(no host)", osds: tree.stray.map((s) => ({ name: s.name, up: false, in: false })) });
  return hosts;
}

/**
 * Ceph's own health and every PG not active+clean, named with the book's meaning: HEALTH_ERR or
 * a PG without I/O is down; HEALTH_WARN, slow ops or a degraded PG still serving is degraded.
 */
export function pgVerdict(st: Status): ProbeResult {
  const states = st.pgmap.pgs_by_state;
  const unclean = states.filter((s) => pgStateHealth(s.state_name) !== "ok");
  const checks = Object.entries(st.health.checks).filter(([, c]) => !c.muted);
  const slow = checks.filter(([k]) => k.includes("SLOW"));
  const byHealth: HealthState =
    st.health.status === "HEALTH_ERR"
      ? "down"
      : st.health.status === "HEALTH_WARN" && checks.length > 0
        ? "degraded"
        : "ok";
  const state = worst([byHealth, ...unclean.map((s) => pgStateHealth(s.state_name))]);
  const named = unclean.map((s) => `${s.count} ${s.state_name} (${explainPgState(s.state_name)})`);
  const warnings = checks.filter(([k]) => !k.includes("SLOW")).map(([k, c]) => `${k}: ${c.summary.message}`);
  const parts = [
    `${st.health.status}, ${st.pgmap.num_pgs} PGs${named.length ? `: ${named.join("; ")}` : " active+clean"}`,
    slow.length ? `slow ops: ${slow.map(([, c]) => c.summary.message).join("; ")}` : "no slow ops",
    ...warnings,
  ];
  return {
    state,
    summary: parts.join("; "),
    details: {
      health: st.health.status,
      checks: checks.map(([k]) => k),
      pgs: states,
      slowOps: slow.map(([k]) => k),
    },
  };
}
