// One in-process run of bench/render.bench.ts, in a fresh process so that its peak RSS is that of
// one validate + render + plan: with the modules loaded, times loadSite (validate, which renders
// every host) and planHosts on that render (what `hastack plan` computes: the step graph, offline),
// checks the whole cloud is there (after the clock stops), and prints one JSON line.
import { planHosts } from "../src/cli/plan.ts";
import { services } from "../src/services/registry.ts";
import { loadSite } from "../src/topology/load.ts";
import { checkComputeFiles, checkComputeSteps } from "./whole-cloud.ts";

const file = process.argv[2];
if (!file) throw new Error("usage: node bench/render-run.ts INVENTORY");
const cpu = process.cpuUsage();
const start = performance.now();
const site = await loadSite(file, services);
const rendered = performance.now();
const plans = planHosts(site.topology, services, undefined, site.render.files);
const end = performance.now();
const used = process.cpuUsage(cpu);
const rssMiB = process.resourceUsage().maxRSS / 1024;

checkComputeFiles(site.topology, site.render.files);
checkComputeSteps(site.topology, new Map(plans.map((p) => [p.host, p.steps])));
const all = [...site.render.files.values()].flat();
process.stdout.write(
  `${JSON.stringify({
    ms: end - start,
    renderMs: rendered - start,
    planMs: end - rendered,
    cpuMs: (used.user + used.system) / 1000,
    rssMiB,
    hosts: plans.length,
    files: all.length,
    bytes: all.reduce((n, f) => n + Buffer.byteLength(f.text), 0),
    steps: plans.reduce((n, p) => n + p.steps.length, 0),
    declared: [...new Set(plans.flatMap((p) => p.notImplemented))],
  })}\n`,
);
