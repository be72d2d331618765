import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { parseSources, parseTracking, type Source, type Tracking } from "../../hostkit/chrony.ts";
import { sections } from "../../hostkit/journal.ts";
import { show } from "../../hostkit/systemd.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import type { DiagnosticSpec } from "../types.ts";

/**
 * Galera, corosync and Ceph's monitors all misbehave when clocks jump or drift apart
 * (mon_clock_drift_allowed is 0.05 s); Keystone tokens issued on one controller expire early or
 * late on another. Above this, chrony's own offset is a problem.
 */
export const MAX_OFFSET_S = 0.05;
/** Clocks compared over SSH carry the round trip's uncertainty: beyond it, this much is a jump. */
export const MAX_SKEW_S = 1;

/** Per host: chrony follows a selected source with a small offset (the runbook's V1). Once: clocks agree. */
export function hostPrepHealth(topology: Topology): ProbeSpec[] {
  return [
    {
      id: "time",
      title: "chrony synchronised (selected source, offset)",
      on: "each",
      weight: "redundant",
      run: probeChrony,
    },
    {
      id: "clocks",
      title: "Clocks of all hosts agree",
      on: "once",
      weight: "redundant",
      run: (ctx) =>
        probeClocks(
          ctx,
          topology.hosts.map((h) => h.name),
        ),
    },
  ];
}

async function probeChrony(ctx: ProbeContext): Promise<ProbeResult> {
  const host = ctx.host?.name ?? "";
  const unit = await show(ctx.transport(host), "chrony.service", ["ActiveState", "ConditionResult"], {
    signal: ctx.signal,
  });
  if (unit.ActiveState !== "active") {
    // systemd skipped it: no CAP_SYS_TIME (a container); the clock is the parent's, which the
    // clocks probe compares with the other hosts.
    if (unit.ConditionResult === "no")
      return {
        state: "ok",
        summary: "chrony skipped by systemd (cannot set the clock here: a container); clock is the parent's",
      };
    return {
      state: "degraded",
      summary: `chrony is ${unit.ActiveState}: this clock drifts unchecked (Galera, corosync and Ceph need clocks in step)`,
    };
  }
  const tracking = await ctx.exec(host, ["chronyc", "-c", "tracking"]);
  const sources = await ctx.exec(host, ["chronyc", "-c", "sources"]);
  if (tracking.code !== 0 || sources.code !== 0)
    return {
      state: "degraded",
      summary: `chronyc does not answer: ${lastLine(tracking.stderr || sources.stderr)}`,
    };
  return judgeChrony(
    parseTracking({ name: host }, tracking.stdout),
    parseSources({ name: host }, sources.stdout),
  );
}

/** The runbook's V1 (a selected source) and the offset; exported for the tests over captured output. */
export function judgeChrony(tracking: Tracking, sources: Source[]): ProbeResult {
  const selected = sources.find((s) => s.state === "selected");
  const problems: string[] = [];
  if (!tracking.synchronised)
    problems.push("chrony is not synchronised (no reference): this clock drifts unchecked");
  if (!selected)
    problems.push(
      `no selected source among ${sources.length} (${sources.map((s) => `${s.name} ${s.state}`).join(", ") || "none configured"})`,
    );
  const offset = Math.abs(tracking.systemOffset);
  if (offset > MAX_OFFSET_S)
    problems.push(
      `clock is ${offset.toFixed(3)} s off (more than ${MAX_OFFSET_S} s: Ceph monitors warn, Galera and corosync timeouts skew)`,
    );
  const summary = [
    selected ? `following ${selected.name} (stratum ${tracking.stratum})` : "no selected source",
    `offset ${(tracking.systemOffset * 1000).toFixed(3)} ms`,
    `leap ${tracking.leap}`,
    ...problems,
  ].join(", ");
  return { state: problems.length > 0 ? "degraded" : "ok", summary, details: { tracking, sources } };
}

/**
 * Each host's clock read over SSH against this machine's, halfway through the round trip; a host
 * that differs from the others' median by more than MAX_SKEW_S beyond the round trip's
 * uncertainty has jumped (a clock stepped by hand, chrony stopped for days). The median keeps
 * this machine's own clock out of it.
 */
async function probeClocks(ctx: ProbeContext, hosts: string[]): Promise<ProbeResult> {
  const readings = await Promise.all(
    hosts.map(async (host) => {
      const before = Date.now();
      const r = await ctx.exec(host, ["date", "+%s.%N"]).catch((e: Error) => e);
      const after = Date.now();
      if (r instanceof Error || r.code !== 0)
        return { host, error: r instanceof Error ? r.message : r.stderr };
      return {
        host,
        offset: Number(r.stdout.trim()) - (before + after) / 2000,
        uncertainty: (after - before) / 2000,
      };
    }),
  );
  return judgeClocks(readings);
}

export type ClockReading =
  | { host: string; offset: number; uncertainty: number }
  | { host: string; error: string };

export function judgeClocks(readings: ClockReading[]): ProbeResult {
  const ok = readings.filter(
    (r): r is Extract<ClockReading, { offset: number }> => "offset" in r && Number.isFinite(r.offset),
  );
  if (ok.length === 0) return { state: "down", summary: "no host told its time" };
  const sorted = ok.map((r) => r.offset).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const off = ok.filter((r) => Math.abs(r.offset - median) - r.uncertainty > MAX_SKEW_S);
  const silent = readings.filter((r) => !("offset" in r) || !Number.isFinite(r.offset));
  const problems = [
    ...off.map(
      (r) =>
        `${r.host}'s clock is ${(r.offset - median).toFixed(1)} s ${r.offset > median ? "ahead of" : "behind"} the others: its Galera, corosync and token timestamps disagree with theirs`,
    ),
    ...silent.map((r) => `${r.host} did not tell its time`),
  ];
  const spread = (sorted[sorted.length - 1] as number) - (sorted[0] as number);
  const summary =
    problems.length === 0
      ? `${ok.length} hosts agree within ${spread.toFixed(3)} s (SSH round trip included)`
      : problems.join("; ");
  return {
    state: problems.length > 0 ? "degraded" : "ok",
    summary,
    details: { offsets: Object.fromEntries(ok.map((r) => [r.host, Number((r.offset - median).toFixed(3))])) },
  };
}

/** The book's first looks on every host: its clock and chrony's view, disk, memory, load. */
export function hostPrepDiagnostics(): DiagnosticSpec[] {
  return [
    {
      id: "host",
      title: "Clock, chrony, disk, memory, load",
      argv: () =>
        sections([
          "date -u +%Y-%m-%dT%H:%M:%S.%NZ",
          "chronyc tracking",
          "chronyc sources",
          "df -h -x tmpfs -x devtmpfs",
          "free -m",
          "uptime",
        ]),
    },
  ];
}
