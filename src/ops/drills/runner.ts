import { HastackError } from "../../util/errors.ts";
import { type Downtime, measureDowntime, startProbeLoop } from "./probe-loop.ts";
import { sqlReadProbe, sqlWriteProbe } from "./sql-probes.ts";
import type { DrillContext, DrillDef, DrillFacts, DrillReport, Injected } from "./types.ts";
import { drillVerdict, VERDICT_EXIT_CODES, verdictLine } from "./verdict.ts";

export interface RunDrillOptions {
  /** Probe interval. @default 50 */
  intervalMs?: number;
  /** Give up waiting for the service to come back after this long. @default 120_000 */
  recoveryTimeoutMs?: number;
  /** Resolves when the whole site is healthy again (status), or rejects after its own timeout. */
  waitHealthy(): Promise<void>;
  /**
   * Resolves once the whole site is healthy before the fault, or rejects with the reason. A fault
   * injected into a site already failing measures the old failure, not the new one (the
   * under-load drill's run 4 started with Keystone's token check failing).
   */
  healthyBefore?(): Promise<void>;
}

/**
 * Probe, inject, measure, restore, verify, wait for health. The fault is always restored, even
 * when the drill fails half-way, and the report says what happened at each stage.
 */
export async function runDrill(
  drill: DrillDef,
  base: Omit<DrillContext, "timing">,
  options: RunDrillOptions,
): Promise<DrillReport> {
  const timings: DrillReport["timings"] = [];
  const ctx: DrillContext = {
    ...base,
    timing: (label, ms) => void timings.push({ label, ms: Math.round(ms) }),
  };
  const interval = options.intervalMs ?? 50;
  await options.healthyBefore?.();
  const facts: DrillFacts = { acked: [] };
  const write = drill.probe === "sql-write" ? await sqlWriteProbe(ctx.topology, ctx.secrets) : undefined;
  const loop = startProbeLoop(write?.probe ?? sqlReadProbe(ctx.topology, ctx.secrets), interval);

  // A second of probes before the fault, and at least one finished: under load the first
  // connection alone took over a second, and the drill refused to start on "no probe finished".
  const settle = performance.now() + 15_000;
  await new Promise((r) => setTimeout(r, 1000));
  while (loop.attempts().length === 0 && performance.now() < settle)
    await new Promise((r) => setTimeout(r, 100));
  const before = loop.attempts();
  if (before.length === 0 || before.some((a) => !a.ok)) {
    await loop.stop();
    const error = before.find((a) => !a.ok)?.error ?? "no probe finished";
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot start drill ${drill.id}: the probe fails before any fault: ${error}`,
      {
        hint: "run `hastack status` and make the site healthy first",
      },
    );
  }

  if (drill.prepare) {
    try {
      await drill.prepare(ctx);
    } catch (error) {
      await loop.stop();
      throw error;
    }
  }
  const faultAt = loop.now();
  let injected: Injected | undefined;
  // How long the injection itself took (an IPMI call, an SSH round trip): the fault lands at its end.
  let injectMs = 0;
  let downtime: Downtime = { downtimeMs: 0, failed: 0, total: 0, errors: [] };
  const violations = new Set<string>();
  const problems: string[] = [];
  const recoveryTimeoutMs = options.recoveryTimeoutMs ?? 120_000;
  try {
    injected = await drill.inject(ctx);
    injectMs = loop.now() - faultAt;
    ctx.log(`${injected.action} (took ${(injectMs / 1000).toFixed(2)} s)`);
    const current = injected;
    let watching = drill.watch !== undefined;
    const watcher = (async () => {
      while (watching && drill.watch) {
        const violation = await drill.watch(ctx, current).catch(() => undefined);
        if (violation) violations.add(violation);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const recovered = await loop.waitForRecovery(faultAt, 5, recoveryTimeoutMs, drill.outage ?? true);
    // Keep probing a little: a service that flaps right after coming back is not recovered.
    await new Promise((r) => setTimeout(r, 2000));
    watching = false;
    await watcher;
    if (!recovered) problems.push(`the service did not come back within ${recoveryTimeoutMs / 1000} s`);
  } finally {
    const attempts = await loop.stop();
    facts.acked = write ? [...write.acked] : [];
    downtime = measureDowntime(attempts, faultAt);
    ctx.log(`downtime ${(downtime.downtimeMs / 1000).toFixed(2)} s; restoring`);
    // A restore that fails leaves the site broken: the report says so instead of a stack trace.
    if (injected)
      await injected.restore().catch((error: unknown) => {
        problems.push(`restore failed: ${error instanceof Error ? error.message : String(error)}`);
      });
  }

  // The writes are read back through the VIP: a site the fault left down cannot answer yet, so
  // a failed read is tried again once the site is healthy, and is a finding, never a crash.
  const checkWrites = async (): Promise<string | undefined> => {
    if (!write) return undefined;
    try {
      const stored = new Set(await write.stored());
      const lost = facts.acked.filter((seq) => !stored.has(seq));
      if (lost.length > 0)
        violations.add(`${lost.length} acknowledged write(s) lost: ${lost.slice(0, 10).join(", ")}`);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
  const unread = await checkWrites();
  if (drill.verify && injected) {
    for (const f of await drill.verify(ctx, injected, facts))
      if (f.severity === "unsafe") violations.add(f.message);
      else problems.push(f.message);
  }

  const healthyStart = performance.now();
  let healthyAgainMs: number | undefined;
  try {
    await options.waitHealthy();
    healthyAgainMs = performance.now() - healthyStart;
  } catch (error) {
    problems.push(`not healthy again: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (unread !== undefined) {
    const again = await checkWrites();
    if (again !== undefined)
      problems.push(
        `cannot read back the ${facts.acked.length} acknowledged write(s) through the VIP: ${again}`,
      );
  }

  const goalMs = drill.goalMs(ctx.topology);
  // The longest outage anything measured: the probe's, or one the drill measured itself.
  const worst = Math.max(downtime.downtimeMs, ...(facts.downtimes ?? []).map((d) => d.ms));
  const verdict = drillVerdict({
    downtimeMs: worst,
    goalMs,
    violations: [...violations],
    problems,
  });
  const report: DrillReport = {
    drill: drill.id,
    target: injected?.target ?? "",
    action: injected?.action ?? "",
    downtimeMs: Math.round(worst),
    goalMs,
    injectMs: Math.round(injectMs),
    attempts: downtime.total,
    failedAttempts: downtime.failed,
    errors: downtime.errors.slice(0, 5),
    violations: [...violations],
    problems,
    timings,
    verdict,
    exitCode: VERDICT_EXIT_CODES[verdict],
    ok: verdict === "passed",
  };
  if (downtime.firstFailureAt !== undefined)
    report.firstFailureMs = Math.round(downtime.firstFailureAt - faultAt);
  if (downtime.recoveredAt !== undefined) report.recoveredMs = Math.round(downtime.recoveredAt - faultAt);
  if (healthyAgainMs !== undefined) report.healthyAgainMs = Math.round(healthyAgainMs);
  return report;
}

export function formatDrillReport(r: DrillReport): string {
  const s = (ms: number | undefined) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`);
  const lines = [
    `drill ${r.drill}: ${r.action}`,
    `  downtime: ${s(r.downtimeMs)} (goal ${s(r.goalMs)}: ${r.downtimeMs <= r.goalMs ? "met" : "MISSED"})`,
    // The downtime above may be another measurement's (facts.downtimes): this line is the SQL probe's.
    `  fault injected in ${s(r.injectMs)}; SQL probe through the VIP: first failure ${s(r.firstFailureMs)} after the start of the injection, back after ${s(r.recoveredMs)}; ${r.failedAttempts}/${r.attempts} probes failed`,
  ];
  for (const t of r.timings) lines.push(`  ${t.label}: ${s(t.ms)}`);
  for (const e of r.errors) lines.push(`  error seen: ${e}`);
  for (const v of r.violations) lines.push(`  VIOLATION: ${v}`);
  for (const p of r.problems) lines.push(`  PROBLEM: ${p}`);
  lines.push(`  healthy again after ${s(r.healthyAgainMs)}`, `  ${verdictLine(r, r.verdict)}`);
  return `${lines.join("\n")}\n`;
}
