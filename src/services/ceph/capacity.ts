/**
 * @module
 * How full the cluster is, per OSD and per pool, against Ceph's own ratios and hastack's earlier
 * warning (services.ceph.capacity_warn_ratio). Ceph's nearfull is per OSD: one full OSD stops
 * writes to every PG it holds, however empty the rest is. The book: expand as soon as 75% is
 * reached, because an OSD lost at nearfull can push the survivors to full.
 */
import type { HealthState, ProbeResult } from "../../health/types.ts";
import type { Df, OsdDf, OsdDump } from "./schemas.ts";
import { worst } from "./verdicts.ts";

export interface CapacityFinding {
  /** "osd.2" or "pool volumes" */
  what: string;
  /** 0..1 */
  used: number;
  level: "warn" | "nearfull" | "full";
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function level(used: number, warn: number, near: number, full: number): CapacityFinding["level"] | undefined {
  if (used >= full) return "full";
  if (used >= near) return "nearfull";
  if (used >= warn) return "warn";
  return undefined;
}

const STATE: Readonly<Record<CapacityFinding["level"], HealthState>> = {
  warn: "degraded",
  nearfull: "degraded",
  full: "down",
};

/** What the operator should do, by the worst finding: said once, after the findings. */
export function capacityAdvice(findings: readonly CapacityFinding[]): string {
  if (findings.some((f) => f.level === "full"))
    return "writes are blocked: free space now (delete unused images, volumes, snapshots through OpenStack; never files inside an OSD) or add OSDs; raising full_ratio (at most 0.98) only buys hours";
  if (findings.length === 0) return "";
  const uneven = findings.filter((f) => f.what.startsWith("osd.")).length;
  return [
    "add OSDs or storage hosts (services.ceph.osd_devices) before nearfull, one at a time",
    "or delete unused images, volumes and snapshots through OpenStack",
    ...(uneven > 0 ? ["if one OSD is much fuller than the rest: ceph osd reweight-by-utilization"] : []),
  ].join("; ");
}

/**
 * The capacity probe's verdict. `warnRatio` is hastack's early warning; the nearfull and full
 * ratios are the cluster's own (the OSD map), so a ratio changed by hand is what is compared.
 * A pool's `percent_used` is its share of the room it has before its fullest OSD is full.
 */
export function capacityVerdict(df: Df, osdDf: OsdDf, dump: OsdDump, warnRatio: number): ProbeResult {
  const { nearfull_ratio: near, full_ratio: full, backfillfull_ratio: backfill } = dump;
  const raw = df.stats.total_bytes > 0 ? df.stats.total_used_raw_bytes / df.stats.total_bytes : 0;
  const findings: CapacityFinding[] = [];
  for (const o of osdDf.nodes) {
    const used = o.utilization / 100;
    const l = level(used, warnRatio, near, full);
    if (l) findings.push({ what: o.name, used, level: l });
  }
  for (const p of df.pools.filter((x) => !x.name.startsWith("."))) {
    // The pool's fill is measured against its room up to the full ratio, so nearfull/full do
    // not apply to it directly: the OSD findings carry those.
    if (p.stats.percent_used >= warnRatio)
      findings.push({ what: `pool ${p.name}`, used: p.stats.percent_used, level: "warn" });
  }
  findings.sort((a, b) => b.used - a.used);
  const state = worst(findings.map((f) => STATE[f.level]));
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const fullest = [...osdDf.nodes].sort((a, b) => b.utilization - a.utilization)[0];
  const named = findings.map(
    (f) =>
      `${f.what} ${pct(f.used)} ${f.level === "full" ? "FULL: writes blocked" : f.level === "nearfull" ? "NEARFULL" : `(warns at ${pct(warnRatio)})`}`,
  );
  const advice = capacityAdvice(findings);
  const pools = df.pools
    .filter((p) => !p.name.startsWith("."))
    .map(
      (p) =>
        `${p.name} ${gib(p.stats.stored)} (${pct(p.stats.percent_used)}, ${gib(p.stats.max_avail)} free)`,
    );
  const head = `raw ${pct(raw)} used of ${gib(df.stats.total_bytes)}, fullest ${fullest ? `${fullest.name} ${pct(fullest.utilization / 100)}` : "none"} (warn ${pct(warnRatio)}, nearfull ${pct(near)}, full ${pct(full)})`;
  return {
    state,
    summary: [head, ...named, ...(advice ? [`to do: ${advice}`] : []), pools.join(", ")].join("; "),
    details: {
      usedRatio: raw,
      warn: warnRatio,
      nearfull: near,
      backfillfull: backfill,
      full,
      findings,
      osds: osdDf.nodes.map((o) => ({ name: o.name, used: o.utilization / 100, kbAvail: o.kb_avail })),
      pools: df.pools.map((p) => ({ name: p.name, ...p.stats })),
    },
  };
}
