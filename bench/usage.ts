// Preloaded into the bench's CLI runs (node --import): at exit, writes the process's peak RSS and
// CPU time to BENCH_USAGE_FILE, which spawnSync does not report of a child.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on("exit", () => {
    const cpu = process.cpuUsage();
    const usage = { rssMiB: process.resourceUsage().maxRSS / 1024, cpuMs: (cpu.user + cpu.system) / 1000 };
    writeFileSync(file, JSON.stringify(usage));
  });
}
