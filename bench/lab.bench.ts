// npm run bench:lab: failover downtime on the lab, as p50 / p95 / max, on an idle machine and on
// a busy one (a bounded CPU load this bench starts itself with stress-ng). Needs root and a
// deployed lab (`npm run lab`). A vip-holder-poweroff run takes about a minute.
//
// Knobs (environment):
//   BENCH_RUNS      runs per drill and load (default 20)
//   BENCH_DRILLS    comma list of drills (default vip-holder-poweroff)
//   BENCH_LOADS     comma list of idle,busy (default both)
//   BENCH_CPU       stress-ng CPU workers for the busy runs (default 2: every core of the dev machine)
//   BENCH_INVENTORY inventory to drill (default the lab's); e.g. a keepalived copy of it
//   BENCH_HEALTHY   seconds a drill waits for a healthy site afterwards (default 300)
//   BENCH_NOOP      0 skips the no-op re-deploy timing (default 1)
//   BENCH_FULL      1: first `lab down` (hosts removed), `lab up --cloud`, `secrets init`, and time
//                   the full deploy from empty hosts: base layer, Ceph, the whole cloud (goal 15 min)
//   BENCH_OUT       where every run's report goes as JSON lines (default bench-lab-<time>.jsonl in the lab dir)
//   BENCH_HA        runs of `hastack ha drill compute-poweroff` per load (default 5 with nova, else 0)
//   BENCH_HA_VMS    VMs on the powered-off compute (default 10)
//   BENCH_BACKUP    runs of `backup run` + `backup verify` (default 3; 0 skips): durations and sizes
//   BENCH_RESTORE   runs of `backup restore --yes` (default 0: it rolls the site's databases back)
//   BENCH_SETTLE    before each run, wait until the machine's 1-minute load average is at most this
//                   (default 5; 0 does not wait), for at most BENCH_SETTLE_MAX_S (default 240) seconds.
//                   Without it an "idle" run started while the previous run's controller was still
//                   rejoining (Galera IST, RabbitMQ, Keystone's uwsgi) and status polled it: load 13-20
//                   on 2 cores (session 5), which is not idle.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { labDir, labInventoryPath } from "../src/lab/paths.ts";
import { type Spread, spread } from "../src/ops/drills/stats.ts";
import type { DrillReport } from "../src/ops/drills/types.ts";
import type { CephDrillRun } from "../src/services/ceph/drill-kit.ts";
import { benchBackup } from "./backup.ts";
import { benchComputePoweroff } from "./ha-drill.ts";

const inventory = process.env.BENCH_INVENTORY ?? labInventoryPath();
const runs = Number(process.env.BENCH_RUNS ?? 20);
const wanted = (process.env.BENCH_DRILLS ?? "vip-holder-poweroff").split(",");
const loads = (process.env.BENCH_LOADS ?? "idle,busy").split(",") as ("idle" | "busy")[];
const cpuWorkers = Number(process.env.BENCH_CPU ?? 2);
const out =
  process.env.BENCH_OUT ??
  path.join(labDir(), `bench-lab-${new Date().toISOString().replace(/[:.]/g, "-")}.jsonl`);
const vipManager =
  (YAML.parse(fs.readFileSync(inventory, "utf8")) as { vip_manager?: string }).vip_manager ?? "pacemaker";
// The issue's goals for the p95 of vip-holder-poweroff, busy or not.
const P95_GOAL_S: Record<string, number> = { pacemaker: 6, keepalived: 1.5 };

function hastack(args: string[]): { code: number | null; stdout: string; stderr: string; seconds: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, ["src/cli/main.ts", ...args], {
    encoding: "utf8",
    timeout: 1_200_000,
  });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    seconds: (performance.now() - started) / 1000,
  };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A CPU load with its own end (stress-ng --timeout), stopped by PID after each run anyway. */
function startLoad(): ChildProcess {
  const child = spawn("stress-ng", ["--cpu", String(cpuWorkers), "--timeout", "900s", "--quiet"], {
    stdio: "ignore",
  });
  child.on("error", (error) => {
    throw new Error(`cannot start stress-ng (scripts/bootstrap.sh installs it): ${error.message}`);
  });
  return child;
}

async function stopLoad(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

function loadAverage(): string {
  return fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

const settleLoad = Number(process.env.BENCH_SETTLE ?? 5);
const settleMaxS = Number(process.env.BENCH_SETTLE_MAX_S ?? 240);

/** Waits for the 1-minute load average to fall to BENCH_SETTLE; says so when it never did. */
async function settle(label: string): Promise<void> {
  if (settleLoad <= 0) return;
  const deadline = Date.now() + settleMaxS * 1000;
  while (Number(loadAverage().split(" ")[0]) > settleLoad) {
    if (Date.now() > deadline) {
      say(`${label}: load ${loadAverage()} still above ${settleLoad} after ${settleMaxS} s; running anyway`);
      return;
    }
    await new Promise((r) => setTimeout(r, 5000));
  }
}

if (process.env.BENCH_FULL === "1") {
  for (const args of [
    ["lab", "down"],
    ["lab", "up", "--cloud"],
    ["secrets", "init", "-i", inventory],
  ]) {
    const r = hastack(args);
    if (r.code !== 0) throw new Error(`hastack ${args.join(" ")} failed:\n${r.stderr}`);
  }
  const full = hastack(["deploy", "-i", inventory, "--quiet"]);
  if (full.code !== 0)
    throw new Error(`the full deploy failed:\n${full.stdout.slice(-3000)}\n${full.stderr}`);
  const goal = full.seconds <= 900 ? "met" : "MISSED";
  say(
    `full deploy from empty lab hosts (base layer, Ceph, whole cloud): ${full.seconds.toFixed(1)} s (goal 900 s: ${goal})`,
  );
}

const deploy = hastack(["deploy", "-i", inventory, "--quiet"]);
if (deploy.code !== 0)
  throw new Error(`the lab is not deployed: run \`npm run lab\` first\n${deploy.stderr}`);
if (process.env.BENCH_NOOP !== "0") {
  const noop: number[] = [];
  for (let i = 0; i < 5; i++) noop.push(hastack(["deploy", "-i", inventory, "--quiet"]).seconds);
  const n = spread(noop);
  say(
    `no-op re-deploy: p50 ${n.p50.toFixed(1)} s, p95 ${n.p95.toFixed(1)} s, max ${n.max.toFixed(1)} s over ${noop.length} runs (goal 30 s: ${n.max <= 30 ? "met" : "MISSED"})`,
  );
}

say(
  `${new Date().toISOString()} vip_manager ${vipManager}, ${runs} run(s) per drill and load; reports in ${out}`,
);
const table: { drill: string; load: string; s: Spread; verdicts: string }[] = [];
interface StageRow {
  drill: string;
  load: string;
  stage: string;
  s: Spread;
}
const stages: StageRow[] = [];
for (const id of wanted) {
  for (const load of loads) {
    const reports: DrillReport[] = [];
    for (let i = 0; i < runs; i++) {
      await settle(`${id} ${load} run ${i + 1}`);
      const stress = load === "busy" ? startLoad() : undefined;
      // Let the load settle before the fault, so the whole drill runs under it.
      if (stress) await new Promise((r) => setTimeout(r, 2000));
      const before = loadAverage();
      const r = hastack([
        "drill",
        id,
        "-i",
        inventory,
        "--json",
        "--healthy-timeout",
        process.env.BENCH_HEALTHY ?? "300",
      ]);
      if (stress) await stopLoad(stress);
      let report: DrillReport | undefined;
      try {
        report = JSON.parse(r.stdout) as DrillReport;
      } catch {
        say(
          `${id} ${load} run ${i + 1}: no report (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-2).join(" / ")}`,
        );
        continue;
      }
      reports.push(report);
      fs.appendFileSync(out, `${JSON.stringify({ load, loadavg: before, ...report })}\n`);
      say(
        `${id} ${load} run ${i + 1}: ${(report.downtimeMs / 1000).toFixed(2)} s, target ${report.target}, ` +
          `${report.verdict}, load ${before}${[...report.violations, ...report.problems].map((p) => `; ${p}`).join("")}`,
      );
    }
    const counts = new Map<string, number>();
    for (const r of reports) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
    const verdicts = [...counts.entries()].map(([v, n]) => `${n} ${v}`).join(", ");
    table.push({ drill: id, load, s: spread(reports.map((r) => r.downtimeMs / 1000)), verdicts });
    stages.push(...stageSpreads(id, load, reports));
  }
}

/**
 * Each stage a drill timed itself (recover done after power-on, the replacement's deploy...), as
 * p50 / p95 / max over the runs. The target's name is taken out of the labels, so that runs on
 * different targets count as one stage.
 */
function stageSpreads(drill: string, load: string, reports: DrillReport[]): StageRow[] {
  const byLabel = new Map<string, number[]>();
  for (const r of reports)
    for (const t of r.timings) {
      const label = r.target ? t.label.split(r.target).join("<target>") : t.label;
      byLabel.set(label, [...(byLabel.get(label) ?? []), t.ms / 1000]);
    }
  return [...byLabel].map(([stage, secs]) => ({ drill, load, stage, s: spread(secs) }));
}

// BENCH_RUNS=0 (the Ceph runs alone) measured nothing here: no table, rather than a "MISSED" row.
if (stages.some((row) => !["vip-holder-poweroff"].includes(row.drill))) {
  say("");
  say("| drill | load | stage (from the drill's start, or as labelled) | runs | p50 | p95 | max |");
  say("| --- | --- | --- | --- | --- | --- | --- |");
  for (const { drill, load, stage, s } of stages)
    say(
      `| ${drill} | ${load} | ${stage} | ${s.runs} | ${s.p50.toFixed(1)} s | ${s.p95.toFixed(1)} s | ${s.max.toFixed(1)} s |`,
    );
}
if (runs > 0) {
  say("");
  say(`| drill | vip_manager | load | runs | p50 | p95 | max | verdicts | p95 goal |`);
  say(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const { drill, load, s, verdicts } of table) {
    const goal = drill === "vip-holder-poweroff" ? P95_GOAL_S[vipManager] : undefined;
    const met = goal === undefined ? "-" : `${s.p95 <= goal ? "met" : "MISSED"} (<= ${goal} s)`;
    say(
      `| ${drill} | ${vipManager} | ${load} | ${s.runs} | ${s.p50.toFixed(2)} s | ${s.p95.toFixed(2)} s | ${s.max.toFixed(2)} s | ${verdicts} | ${met} |`,
    );
  }
}

// ---- Ceph: storage-poweroff (issue 8) --------------------------------------------------------
// BENCH_CEPH  runs of `hastack ceph drill storage-poweroff` (default 5 when the inventory has
//             services.ceph, else 0; 0 skips): a storage host's plug pulled for 45 s while a
//             compute writes through RBD. Prints the I/O stall and the time from power-on to
//             HEALTH_OK as p50 / p95 / max (goal: stall <= 15 s).
const withCeph = Boolean(
  (YAML.parse(fs.readFileSync(inventory, "utf8")) as { services?: { ceph?: unknown } }).services?.ceph,
);
const cephRuns = Number(process.env.BENCH_CEPH ?? (withCeph ? 5 : 0));
if (cephRuns > 0) {
  const cephReports: CephDrillRun[] = [];
  for (let i = 0; i < cephRuns; i++) {
    await settle(`ceph storage-poweroff run ${i + 1}`);
    const r = hastack(["ceph", "drill", "storage-poweroff", "-i", inventory, "--json"]);
    let run: CephDrillRun | undefined;
    try {
      run = (JSON.parse(r.stdout) as { runs: CephDrillRun[] }).runs[0];
    } catch {
      run = undefined;
    }
    if (!run) {
      say(
        `ceph storage-poweroff run ${i + 1}: no report (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-2).join(" / ")}`,
      );
      continue;
    }
    cephReports.push(run);
    fs.appendFileSync(out, `${JSON.stringify({ loadavg: loadAverage(), ...run })}\n`);
    const ok = run.healthOkMs === undefined ? "never" : `${(run.healthOkMs / 1000).toFixed(1)} s`;
    say(
      `ceph storage-poweroff run ${i + 1}: stall ${(run.stallMs / 1000).toFixed(2)} s, HEALTH_OK ${ok} after power-on, target ${run.target}, ${run.verdict}${[...run.violations, ...run.problems].map((p) => `; ${p}`).join("")}`,
    );
  }
  const stall = spread(cephReports.map((r) => r.stallMs / 1000));
  const healthy = spread(
    cephReports.flatMap((r) => (r.healthOkMs === undefined ? [] : [r.healthOkMs / 1000])),
  );
  const row = (what: string, s: Spread) =>
    say(`| ${what} | ${s.runs} | ${s.p50.toFixed(2)} s | ${s.p95.toFixed(2)} s | ${s.max.toFixed(2)} s |`);
  say("");
  say("| ceph storage-poweroff | runs | p50 | p95 | max |");
  say("| --- | --- | --- | --- | --- |");
  row(`I/O stall (goal <= 15 s: ${stall.p95 <= 15 ? "met" : "MISSED"} at p95)`, stall);
  row("power-on to HEALTH_OK", healthy);
}

// ---- Instance HA: compute-poweroff (issue 10) ----------------------------------------------------
const withNova = (
  (YAML.parse(fs.readFileSync(inventory, "utf8")) as { services?: { openstack?: { enabled?: string[] } } })
    .services?.openstack?.enabled ?? []
).includes("nova");
const haRuns = Number(process.env.BENCH_HA ?? (withNova ? 5 : 0));
const kit = {
  inventory,
  out,
  loads,
  hastack,
  say,
  settle,
  async busy() {
    const stress = startLoad();
    await new Promise((r) => setTimeout(r, 2000));
    return () => stopLoad(stress);
  },
};
if (haRuns > 0) await benchComputePoweroff(kit, haRuns, Number(process.env.BENCH_HA_VMS ?? 10));

// ---- Backups (issue 11) ------------------------------------------------------------------------
const backupRuns = Number(process.env.BENCH_BACKUP ?? 3);
const restoreRuns = Number(process.env.BENCH_RESTORE ?? 0);
if (backupRuns > 0 || restoreRuns > 0) await benchBackup(kit, backupRuns, restoreRuns);
