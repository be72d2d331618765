// npm run bench:lab: deploy and failover figures on the lab, printed as medians. Needs root and
// a lab (`npm run lab`); takes about 3 minutes per drill run. BENCH_RUNS (default 5) sets the
// runs per drill; BENCH_DRILLS (comma list) picks drills.
import { spawnSync } from "node:child_process";
import { labInventoryPath } from "../src/lab/paths.ts";
import { drills } from "../src/ops/drills/catalog.ts";
import type { DrillReport } from "../src/ops/drills/types.ts";

const inventory = labInventoryPath();
const runs = Number(process.env.BENCH_RUNS ?? 5);
const wanted = process.env.BENCH_DRILLS?.split(",") ?? drills.map((d) => d.id);

function hastack(args: string[]): { code: number | null; stdout: string; seconds: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, ["src/cli/main.ts", ...args], {
    encoding: "utf8",
    timeout: 1_200_000,
  });
  return { code: r.status, stdout: r.stdout, seconds: (performance.now() - started) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const deploy = hastack(["deploy", "-i", inventory, "--quiet"]);
if (deploy.code !== 0) throw new Error("the lab is not deployed: run `npm run lab` first");
const noop: number[] = [];
for (let i = 0; i < 3; i++) noop.push(hastack(["deploy", "-i", inventory, "--quiet"]).seconds);
process.stdout.write(`no-op re-deploy: median ${median(noop).toFixed(1)} s over ${noop.length} runs\n`);

for (const id of wanted) {
  const reports: DrillReport[] = [];
  for (let i = 0; i < runs; i++) {
    const r = hastack(["drill", id, "-i", inventory, "--json"]);
    const report = JSON.parse(r.stdout || "null") as DrillReport | null;
    if (!report) {
      process.stdout.write(`${id}: run ${i + 1} produced no report (exit ${r.code})\n`);
      continue;
    }
    reports.push(report);
  }
  const downtimes = reports.map((r) => r.downtimeMs / 1000);
  const failed = reports.filter((r) => !r.ok).length;
  const goal = (reports[0]?.goalMs ?? 0) / 1000;
  process.stdout.write(
    `${id}: downtime median ${median(downtimes).toFixed(2)} s (min ${Math.min(...downtimes).toFixed(2)}, ` +
      `max ${Math.max(...downtimes).toFixed(2)}) over ${reports.length} runs, goal ${goal.toFixed(1)} s; ` +
      `${failed} run(s) with a violation or problem\n`,
  );
  for (const r of reports) for (const p of [...r.violations, ...r.problems]) process.stdout.write(`  ${p}\n`);
}
