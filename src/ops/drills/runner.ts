import { HastackError } from "../../util/errors.ts";
import { type Downtime, measureDowntime, startProbeLoop } from "./probe-loop.ts";
import { sqlReadProbe, sqlWriteProbe } from "./sql-probes.ts";
import type { DrillContext, DrillDef, DrillFacts, DrillReport, Injected } from "./types.ts";

export interface RunDrillOptions {
  /** Probe interval. @default 50 */
  intervalMs?: number;
  /** Give up waiting for the service to come back after this long. @default 120_000 */
  recoveryTimeoutMs?: number;
  /** Resolves when the whole site is healthy again (status), or rejects after its own timeout. */
  waitHealthy(): Promise<void>;
}

/**
 * Probe, inject, measure, restore, verify, wait for health. The fault is always restored, even
 * when the drill fails half-way, and the report says what happened at each stage.
 */
export async function runDrill(
  drill: DrillDef,
  ctx: DrillContext,
  options: RunDrillOptions,
): Promise<DrillReport> {
  const interval = options.intervalMs ?? 50;
  const facts: DrillFacts = { acked: [] };
  const write = drill.probe === "sql-write" ? await sqlWriteProbe(ctx.topology, ctx.secrets) : undefined;
  const loop = startProbeLoop(write?.probe ?? sqlReadProbe(ctx.topology, ctx.secrets), interval);

  await new Promise((r) => setTimeout(r, 1000));
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

  const faultAt = loop.now();
  let injected: Injected | undefined;
  // How long the injection itself took (an IPMI call, an SSH round trip): the fault lands at its end.
  let injectMs = 0;
  let downtime: Downtime = { downtimeMs: 0, failed: 0, total: 0, errors: [] };
  const violations = new Set<string>();
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
    const recovered = await loop.waitForRecovery(faultAt, 5, options.recoveryTimeoutMs ?? 120_000);
    // Keep probing a little: a service that flaps right after coming back is not recovered.
    await new Promise((r) => setTimeout(r, 2000));
    watching = false;
    await watcher;
    if (!recovered) ctx.log("the service did not come back before the timeout");
  } finally {
    const attempts = await loop.stop();
    facts.acked = write ? [...write.acked] : [];
    downtime = measureDowntime(attempts, faultAt);
    ctx.log(`downtime ${(downtime.downtimeMs / 1000).toFixed(2)} s; restoring`);
    if (injected) await injected.restore();
  }

  const problems: string[] = [];
  if (write) {
    const stored = new Set(await write.stored());
    const lost = facts.acked.filter((seq) => !stored.has(seq));
    if (lost.length > 0)
      problems.push(`${lost.length} acknowledged write(s) lost: ${lost.slice(0, 10).join(", ")}`);
  }
  if (drill.verify && injected) problems.push(...(await drill.verify(ctx, injected, facts)));

  const healthyStart = performance.now();
  let healthyAgainMs: number | undefined;
  try {
    await options.waitHealthy();
    healthyAgainMs = performance.now() - healthyStart;
  } catch (error) {
    problems.push(`not healthy again: ${error instanceof Error ? error.message : String(error)}`);
  }

  const goalMs = drill.goalMs(ctx.topology);
  const report: DrillReport = {
    drill: drill.id,
    target: injected?.target ?? "",
    action: injected?.action ?? "",
    downtimeMs: Math.round(downtime.downtimeMs),
    goalMs,
    injectMs: Math.round(injectMs),
    attempts: downtime.total,
    failedAttempts: downtime.failed,
    errors: downtime.errors.slice(0, 5),
    violations: [...violations],
    problems,
    ok: violations.size === 0 && problems.length === 0,
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
    `  fault injected in ${s(r.injectMs)}; first failure ${s(r.firstFailureMs)} after the start of the injection, back after ${s(r.recoveredMs)}; ${r.failedAttempts}/${r.attempts} probes failed`,
  ];
  for (const e of r.errors) lines.push(`  error seen: ${e}`);
  for (const v of r.violations) lines.push(`  VIOLATION: ${v}`);
  for (const p of r.problems) lines.push(`  PROBLEM: ${p}`);
  lines.push(`  healthy again after ${s(r.healthyAgainMs)}`, `  verdict: ${r.ok ? "passed" : "FAILED"}`);
  return `${lines.join("\n")}\n`;
}
