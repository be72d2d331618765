/**
 * @module
 * The real CLI as the lab's e2e tests run it: the same Node, real argv, output kept whole.
 * (Unit tests use run-cli.ts, which resolves asynchronously and needs no lab.)
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

export interface LabCliResult {
  code: number | null;
  stdout: string;
  /** stdout then stderr, for assertions on what an operator would read. */
  out: string;
  seconds: number;
}

/** Runs `hastack args...` to its end (or `timeoutMs`); `input` goes to its stdin. */
export function hastackSync(args: readonly string[], timeoutMs = 900_000, input?: string): LabCliResult {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    ...(input === undefined ? {} : { input }),
  });
  return {
    code: r.status,
    stdout: r.stdout,
    out: `${r.stdout}${r.stderr}`,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Like hastackSync but leaves the event loop free, so a sampler can run beside it. */
export function hastackAsync(args: readonly string[]): Promise<LabCliResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (code) =>
      resolve({ code, stdout, out: `${stdout}${stderr}`, seconds: (performance.now() - started) / 1000 }),
    );
  });
}
