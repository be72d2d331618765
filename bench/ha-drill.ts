// The instance-HA part of `npm run bench:lab` (issue 10): `hastack ha drill compute-poweroff`
// BENCH_HA times per load (default 5 when the inventory enables nova, else 0), each with
// BENCH_HA_VMS real VMs (default 10) on the powered-off compute. Prints p50 / p95 / max of the
// detection, every VM ACTIVE elsewhere, and every guest answering again, idle and busy.
import fs from "node:fs";
import type { ComputeFaultReport } from "../src/instance-ha/drill/report.ts";
import { BUDGET } from "../src/instance-ha/drill/report.ts";
import { type Spread, spread } from "../src/ops/drills/stats.ts";
import { busyShare, startCpuSampler } from "./cpu-share.ts";
import { cpuSplit, formatCpuSplit } from "./cpu-split.ts";

export interface BenchKit {
  inventory: string;
  out: string;
  loads: ("idle" | "busy")[];
  hastack(args: string[]): { code: number | null; stdout: string; stderr: string };
  say(line: string): void;
  settle(label: string): Promise<void>;
  /** Starts the busy load; the returned function stops it. */
  busy(): Promise<() => Promise<void>>;
}

export async function benchComputePoweroff(kit: BenchKit, runs: number, vms: number): Promise<void> {
  const rows: { load: string; what: string; s: Spread; goal?: number }[] = [];
  const cpuRows: { load: string; s: Spread }[] = [];
  for (const load of kit.loads) {
    const reports: ComputeFaultReport[] = [];
    const busyPct: number[] = [];
    for (let i = 0; i < runs; i++) {
      await kit.settle(`compute-poweroff ${load} run ${i + 1}`);
      const stop = load === "busy" ? await kit.busy() : undefined;
      const samples = `${kit.out}.cpu`;
      const stopSampler = startCpuSampler(samples);
      const r = kit.hastack([
        "ha",
        "drill",
        "compute-poweroff",
        "-i",
        kit.inventory,
        "--vms",
        String(vms),
        "--json",
      ]);
      stopSampler();
      await stop?.();
      let report: ComputeFaultReport;
      try {
        report = JSON.parse(r.stdout) as ComputeFaultReport;
      } catch {
        kit.say(
          `compute-poweroff ${load} run ${i + 1}: no report (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-2).join(" / ")}`,
        );
        continue;
      }
      reports.push(report);
      // From the power-off to every VM ACTIVE; a run without every VM ACTIVE has no window.
      const off = new Date(report.offAt);
      const allActive = new Date(off.getTime() + (report.allActiveS ?? 0) * 1000);
      const cpu = busyShare(samples, off, allActive);
      const split = cpuSplit(samples, off, allActive);
      if (cpu !== undefined && report.allActiveS !== undefined) busyPct.push(cpu);
      fs.appendFileSync(kit.out, `${JSON.stringify({ load, ...report, cpuBusyPct: cpu })}\n`);
      kit.say(
        `compute-poweroff ${load} run ${i + 1}: detected ${report.detectedS} s, fenced ${report.fencedS} s, ${vms} VMs ACTIVE ${report.allActiveS} s, answering ${report.allAnsweringS} s, cores busy ${cpu === undefined ? "?" : cpu.toFixed(0)} % until every VM ACTIVE, ${report.verdict}${report.problems.map((p) => `; ${p}`).join("")}`,
      );
      // Where that window's CPU went, per lab host and command.
      if (split && report.allActiveS !== undefined) kit.say(`  ${formatCpuSplit(split)}`);
    }
    const of = (pick: (r: ComputeFaultReport) => number | undefined) =>
      spread(reports.flatMap((r) => (pick(r) === undefined ? [] : [pick(r) as number])));
    rows.push({ load, what: "detected", s: of((r) => r.detectedS), goal: BUDGET.detectedS });
    rows.push({ load, what: "fence confirmed", s: of((r) => r.fencedS) });
    rows.push({
      load,
      what: `every VM ACTIVE (${vms})`,
      s: of((r) => r.allActiveS),
      goal: BUDGET.allActiveS,
    });
    rows.push({ load, what: "every guest answering", s: of((r) => r.allAnsweringS) });
    cpuRows.push({ load, s: spread(busyPct) });
  }
  kit.say("");
  kit.say("| compute-poweroff | load | runs | p50 | p95 | max | goal (p50 and p95) |");
  kit.say("| --- | --- | --- | --- | --- | --- | --- |");
  for (const { load, what, s, goal } of rows) {
    const met =
      goal === undefined
        ? "-"
        : `${s.runs > 0 && s.p50 <= goal && s.p95 <= goal ? "met" : "MISSED"} (<= ${goal} s)`;
    kit.say(
      `| ${what} | ${load} | ${s.runs} | ${s.p50.toFixed(1)} s | ${s.p95.toFixed(1)} s | ${s.max.toFixed(1)} s | ${met} |`,
    );
  }
  // The lab's cores are shared by every host and guest: a window near 100 % was bound by CPU.
  for (const { load, s } of cpuRows)
    kit.say(
      `| cores busy, power-off to every VM ACTIVE (%) | ${load} | ${s.runs} | ${s.p50.toFixed(0)} | ${s.p95.toFixed(0)} | ${s.max.toFixed(0)} | - |`,
    );
}
