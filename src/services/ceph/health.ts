import type { HealthState, ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { lastLine } from "../../util/text.ts";
import { capacityVerdict } from "./capacity.ts";
import { cephJson } from "./ceph-tool.ts";
import { monHosts } from "./layout.ts";
import { readPatchState } from "./mgr-patch.ts";
import { rbdRoundTrip } from "./rbd-probe.ts";
import { Df, MgrDump, OsdDf, OsdDump, OsdTree, QuorumStatus, Status } from "./schemas.ts";
import { cephSettings } from "./settings.ts";
import { osdsByHost, pgVerdict } from "./verdicts.ts";

/**
 * `hastack status` for Ceph: asked of the first monitor host that answers (they hold the admin
 * keyring), so a lost monitor host degrades the answer instead of hiding it.
 */
export function cephHealth(topology: Topology): ProbeSpec[] {
  if (monHosts(topology).length === 0) return [];
  type Run = (t: Transport, ctx: ProbeContext) => Promise<ProbeResult>;
  const once = (
    id: string,
    title: string,
    weight: ProbeSpec["weight"],
    run: Run,
    timeoutMs = 20_000,
  ): ProbeSpec => ({
    id,
    title,
    on: "once",
    weight,
    timeoutMs,
    run: (ctx) => onSomeMon(ctx, topology, run),
  });
  return [
    once("quorum", "Ceph monitor quorum", "critical", (t) => quorum(t, topology)),
    once("mgr", "Ceph managers and the mgr module fix", "redundant", (t, ctx) => managers(t, topology, ctx)),
    once("osds", "Ceph OSDs up/in per host", "critical", osds),
    once("pgs", "Ceph health, PG states and slow ops", "critical", pgs),
    once("capacity", "Ceph capacity per OSD and pool, against the warning and full ratios", "critical", (t) =>
      capacity(t, cephSettings(topology).capacity_warn_ratio),
    ),
    once("rbd", "RBD write+read round trip", "critical", (t) => rbdRoundTrip(t), 60_000),
  ];
}

async function onSomeMon(
  ctx: ProbeContext,
  topology: Topology,
  run: (t: Transport, ctx: ProbeContext) => Promise<ProbeResult>,
): Promise<ProbeResult> {
  const errors: string[] = [];
  for (const h of monHosts(topology)) {
    try {
      return await run(ctx.transport(h.name), ctx);
    } catch (e) {
      errors.push(`${h.name}: ${lastLine(e instanceof Error ? e.message : String(e))}`);
    }
  }
  return { state: "down", summary: `no monitor host answers: ${errors.join("; ")}` };
}

async function quorum(t: Transport, topology: Topology): Promise<ProbeResult> {
  const q = await cephJson(t, ["quorum_status"], QuorumStatus);
  const all = q.monmap.mons.map((m) => m.name);
  const out = all.filter((n) => !q.quorum_names.includes(n));
  const want = monHosts(topology).length;
  const state: HealthState = out.length === 0 && all.length >= want ? "ok" : "degraded";
  return {
    state,
    summary: `${q.quorum_names.length}/${all.length} in quorum (${q.quorum_names.join(", ")}), leader ${q.quorum_leader_name ?? "?"}${out.length ? `; OUT: ${out.join(", ")}` : ""}`,
    details: { quorum: q.quorum_names, out, leader: q.quorum_leader_name, election_epoch: q.election_epoch },
  };
}

async function managers(t: Transport, topology: Topology, ctx: ProbeContext): Promise<ProbeResult> {
  const m = await cephJson(t, ["mgr", "dump"], MgrDump);
  const st = await cephJson(t, ["status"], Status);
  const moduleChecks = Object.entries(st.health.checks).filter(([k]) => k.startsWith("MGR_MODULE"));
  const patch: Record<string, string> = {};
  for (const h of monHosts(topology))
    patch[h.name] = await Promise.race([
      readPatchState(ctx.transport(h.name)),
      // A powered-off monitor host must not take the whole probe past its timeout.
      new Promise<string>((r) => setTimeout(() => r("unknown"), 4000).unref()),
    ]).catch(() => "unknown");
  const unpatched = Object.entries(patch)
    .filter(([, v]) => v === "needed")
    .map(([k]) => k);
  const standbys = m.standbys.map((s) => s.name);
  const want = monHosts(topology).length;
  const state: HealthState = !m.available
    ? "down"
    : moduleChecks.length > 0 || unpatched.length > 0 || standbys.length + 1 < want
      ? "degraded"
      : "ok";
  const notes = [
    ...moduleChecks.map(([k, c]) => `${k}: ${c.summary.message}`),
    ...(unpatched.length
      ? [`mgr_util.py unpatched on ${unpatched.join(", ")} (a package upgrade? deploy again)`]
      : []),
  ];
  return {
    state,
    summary: `active ${m.available ? m.active_name : "NONE"}, standby ${standbys.join(", ") || "none"}, module fix ${unpatched.length ? "MISSING" : "in place"}${notes.length ? `; ${notes.join("; ")}` : ""}`,
    details: {
      active: m.active_name,
      available: m.available,
      standbys,
      mgrUtilPatch: patch,
      moduleChecks: moduleChecks.map(([k]) => k),
    },
  };
}

async function osds(t: Transport): Promise<ProbeResult> {
  const tree = await cephJson(t, ["osd", "tree"], OsdTree);
  const hosts = osdsByHost(tree);
  const bad = hosts.flatMap((h) =>
    h.osds
      .filter((o) => !o.up || !o.in)
      .map((o) => `${o.name}@${h.host} ${o.up ? "up" : "down"}+${o.in ? "in" : "out"}`),
  );
  const total = hosts.reduce((n, h) => n + h.osds.length, 0);
  const up = hosts.reduce((n, h) => n + h.osds.filter((o) => o.up).length, 0);
  const state: HealthState = total === 0 || up === 0 ? "down" : bad.length > 0 ? "degraded" : "ok";
  const perHost = hosts
    .map((h) => `${h.host} ${h.osds.filter((o) => o.up && o.in).length}/${h.osds.length}`)
    .join(", ");
  // The book: down+in means the countdown to "out" (and re-replication) is running.
  return {
    state,
    summary: `${up}/${total} up; ${perHost}${bad.length ? `; ${bad.join(", ")}` : ""}`,
    details: { hosts },
  };
}

async function pgs(t: Transport): Promise<ProbeResult> {
  return pgVerdict(await cephJson(t, ["status"], Status));
}

async function capacity(t: Transport, warnRatio: number): Promise<ProbeResult> {
  // Together: each ceph call is a Python start and a cluster connect, and one after the other
  // they ran past the probe's 20 s in a status of the whole lab cloud (load ~30).
  const [df, osdDf, dump] = await Promise.all([
    cephJson(t, ["df"], Df),
    cephJson(t, ["osd", "df"], OsdDf),
    cephJson(t, ["osd", "dump"], OsdDump),
  ]);
  return capacityVerdict(df, osdDf, dump, warnRatio);
}
