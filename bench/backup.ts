// The backup part of `npm run bench:lab` (issue 11): `hastack backup run` then `backup verify`,
// BENCH_BACKUP times (default 3; 0 skips), each timed as the command reports it, with the
// backup's size compressed and unpacked; then `backup restore --yes` BENCH_RESTORE times
// (default 0: a restore rolls the site's databases back to the backup's point, which a bench
// on an operator's lab must not do unasked). Prints p50 / p95 / max of each.
import fs from "node:fs";
import type { RunResult } from "../src/ops/backup/run.ts";
import type { VerifyResult } from "../src/ops/backup/verify.ts";
import { type Spread, spread } from "../src/ops/drills/stats.ts";
import type { BenchKit } from "./ha-drill.ts";

const MIB = 1024 * 1024;

/** One command's --json document, or undefined with a line saying why. */
function json<T>(kit: BenchKit, label: string, args: string[]): T | undefined {
  const r = kit.hastack(args);
  if (r.code === 0)
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      // Said below, as a failed command is.
    }
  kit.say(`${label}: no report (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-2).join(" / ")}`);
  return undefined;
}

export async function benchBackup(kit: BenchKit, runs: number, restores: number): Promise<void> {
  const run: RunResult[] = [];
  const verify: VerifyResult[] = [];
  for (let i = 0; i < runs; i++) {
    await kit.settle(`backup run ${i + 1}`);
    const r = json<RunResult>(kit, `backup run ${i + 1}`, ["backup", "run", "-i", kit.inventory, "--json"]);
    if (!r) continue;
    run.push(r);
    const v = json<VerifyResult>(kit, `backup verify ${i + 1}`, [
      "backup",
      "verify",
      "-i",
      kit.inventory,
      "--json",
    ]);
    if (v) verify.push(v);
    fs.appendFileSync(kit.out, `${JSON.stringify({ backup: r, verify: v })}\n`);
    kit.say(
      `backup run ${i + 1}: ${r.manifest.id} on ${r.manifest.host}, ${(r.durationMs / 1000).toFixed(1)} s, ` +
        `${(r.manifest.size / MIB).toFixed(1)} MiB in ${r.manifest.parts.length} part(s) ` +
        `(${((r.manifest.unpacked ?? 0) / MIB).toFixed(1)} MiB unpacked); ` +
        `verify ${v ? `${(v.durationMs / 1000).toFixed(1)} s, ${v.ok ? "ok" : "FAILED"}` : "no report"}`,
    );
  }
  const restore: number[] = [];
  for (let i = 0; i < restores; i++) {
    await kit.settle(`backup restore ${i + 1}`);
    const r = json<{ result?: { durationMs: number } }>(kit, `backup restore ${i + 1}`, [
      "backup",
      "restore",
      "-i",
      kit.inventory,
      "--yes",
      "--json",
    ]);
    if (r?.result) {
      restore.push(r.result.durationMs / 1000);
      kit.say(`backup restore ${i + 1}: ${(r.result.durationMs / 1000).toFixed(1)} s`);
    }
  }
  const row = (what: string, s: Spread, unit: string) =>
    kit.say(
      `| ${what} | ${s.runs} | ${s.p50.toFixed(1)} ${unit} | ${s.p95.toFixed(1)} ${unit} | ${s.max.toFixed(1)} ${unit} |`,
    );
  kit.say("");
  kit.say("| backup | runs | p50 | p95 | max |");
  kit.say("| --- | --- | --- | --- | --- |");
  row("`backup run`", spread(run.map((r) => r.durationMs / 1000)), "s");
  row("compressed", spread(run.map((r) => r.manifest.size / MIB)), "MiB");
  row(
    "unpacked",
    spread(run.flatMap((r) => (r.manifest.unpacked ? [r.manifest.unpacked / MIB] : []))),
    "MiB",
  );
  row("`backup verify`", spread(verify.map((v) => v.durationMs / 1000)), "s");
  if (restores > 0) row("`backup restore --yes`", spread(restore), "s");
}
