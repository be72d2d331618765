// npm run bench: how long validate + render take for a 3-controller, 500-compute site, and how
// much memory. Prints medians; asserts nothing (these machines are noisy).
import { spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { services } from "../src/services/registry.ts";
import { renderTopology } from "../src/services/render.ts";
import { validateInventory } from "../src/topology/load.ts";
import { bigSiteYaml } from "./site.ts";

const computes = 500;
const runs = 7;
const dir = await mkdtemp(join(tmpdir(), "hastack-bench-"));
const file = join(dir, "site.yaml");
await writeFile(file, bigSiteYaml(computes));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const inProcess: number[] = [];
let files = 0;
let bytes = 0;
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  const result = await validateInventory(file, services);
  if (!result.topology) throw new Error(`bench inventory is invalid: ${JSON.stringify(result.problems[0])}`);
  const { files: rendered } = renderTopology(result.topology, services);
  inProcess.push(performance.now() - start);
  files = [...rendered.values()].reduce((n, l) => n + l.length, 0);
  bytes = [...rendered.values()].flat().reduce((n, f) => n + f.text.length, 0);
}

const cli: number[] = [];
for (let i = 0; i < 5; i++) {
  const start = performance.now();
  const child = spawnSync(process.execPath, [
    "src/cli/main.ts",
    "render",
    "--masked",
    "-i",
    file,
    "--out",
    join(dir, `out${i}`),
  ]);
  if (child.status !== 0) throw new Error(`render failed: ${child.stderr}`);
  cli.push(performance.now() - start);
}

const peakMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  `${[
    `site: 3 controllers + ${computes} computes; ${files} files, ${(bytes / 1024).toFixed(0)} KiB rendered`,
    `validate+render in process: median ${median(inProcess).toFixed(0)} ms over ${runs} runs (first ${inProcess[0]?.toFixed(0)} ms)`,
    `hastack render (cold CLI, writes files): median ${median(cli).toFixed(0)} ms over ${cli.length} runs`,
    `peak memory (RSS of the bench process): ${peakMiB.toFixed(0)} MiB`,
    `target: under 2000 ms -> ${median(cli) < 2000 ? "met" : "NOT met"}`,
  ].join("\n")}\n`,
);
