import type { HealthState, ProbeResult } from "../../health/types.ts";
import { explainPgState, pgStateHealth } from "./pg-states.ts";
import type { Df, OsdDump, OsdTree, Status } from "./schemas.ts";

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

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/**
 * Raw usage against the ratios the cluster enforces: nearfull warns, full stops every write (the
 * book: VMs hang). Warned earlier than Ceph does: at 90% of the nearfull ratio.
 */
export function capacityVerdict(df: Df, dump: OsdDump): ProbeResult {
  const used = df.stats.total_bytes > 0 ? df.stats.total_used_raw_bytes / df.stats.total_bytes : 0;
  const { nearfull_ratio: near, full_ratio: full, backfillfull_ratio: backfill } = dump;
  const state: HealthState = used >= full ? "down" : used >= near * 0.9 ? "degraded" : "ok";
  const what =
    used >= full
      ? "FULL: writes blocked"
      : used >= near
        ? "NEARFULL"
        : used >= near * 0.9
          ? "approaching nearfull"
          : "";
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const pools = df.pools
    .filter((p) => !p.name.startsWith("."))
    .map(
      (p) =>
        `${p.name} ${gib(p.stats.stored)} (${pct(p.stats.percent_used)}, ${gib(p.stats.max_avail)} free)`,
    );
  return {
    state,
    summary: `raw ${pct(used)} used of ${gib(df.stats.total_bytes)} (nearfull ${pct(near)}, full ${pct(full)})${what ? ` ${what}` : ""}; ${pools.join(", ")}`,
    details: {
      usedRatio: used,
      nearfull: near,
      backfillfull: backfill,
      full,
      pools: df.pools.map((p) => ({ name: p.name, ...p.stats })),
    },
  };
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
