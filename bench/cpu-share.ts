// How busy the machine's cores were over a window of a run: a child process appends /proc/stat's
// busy and total jiffies once a second (a child, because the bench's own event loop is blocked
// in spawnSync while a drill runs). On the lab every host shares these cores, so a window at
// ~100 % says the run waited for CPU, whatever the software did.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";

const SAMPLER = `
const fs = require("node:fs");
const out = process.argv[1];
// The bench holds the other end of stdin: killed, it closes it, and this sampler ends with it.
process.stdin.on("end", () => process.exit(0)).resume();
setInterval(() => {
  const v = fs.readFileSync("/proc/stat", "utf8").split("\\n")[0].split(/\\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  fs.appendFileSync(out, Date.now() + " " + (total - v[3] - v[4]) + " " + total + "\\n");
}, 1000);
`;

export function startCpuSampler(file: string): () => void {
  fs.writeFileSync(file, "");
  const child: ChildProcess = spawn(process.execPath, ["-e", SAMPLER, file], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  return () => child.kill("SIGTERM");
}

/** The share (0..100) of the cores busy between two times, from the samples nearest them; undefined without two. */
export function busyShare(file: string, from: Date, to: Date): number | undefined {
  const rows = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ").map(Number) as [number, number, number]);
  const near = (t: number) =>
    rows.reduce<[number, number, number] | undefined>(
      (best, r) => (best === undefined || Math.abs(r[0] - t) < Math.abs(best[0] - t) ? r : best),
      undefined,
    );
  const a = near(from.getTime());
  const b = near(to.getTime());
  if (!a || !b || b[2] <= a[2]) return undefined;
  return (100 * (b[1] - a[1])) / (b[2] - a[2]);
}
