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

/** A status report's lines that are not `ok` (with their layer's heading): what to print. */
export function notOkLines(out: string): string {
  const kept: string[] = [];
  let heading = "";
  for (const line of out.split("\n")) {
    if (/^\S/.test(line)) heading = line;
    else if (line.trim() !== "" && !/^\s+ok\s/.test(line)) {
      if (heading) kept.push(heading);
      heading = "";
      kept.push(line);
    }
  }
  return kept.join("\n");
}

/**
 * `hastack status` until it exits 0, for up to `withinMs`, every attempt's non-ok lines on
 * stdout (the whole report is over 100 lines, and a failed assertion's message is cut short).
 * For the moments right after a deploy, which restarts services: the wait is printed, so a site
 * that needs it is seen, not hidden.
 */
export async function statusUntilHealthy(
  inventory: string,
  withinMs: number,
): Promise<LabCliResult & { waitedSeconds: number }> {
  const started = Date.now();
  let status = hastackSync(["status", "-i", inventory], 300_000);
  while (status.code !== 0 && Date.now() - started < withinMs) {
    console.log(`status not yet healthy (exit ${status.code}):\n${notOkLines(status.out)}`);
    await new Promise((r) => setTimeout(r, 10_000));
    status = hastackSync(["status", "-i", inventory], 300_000);
  }
  const waitedSeconds = (Date.now() - started) / 1000;
  console.log(
    `status exit ${status.code} after ${waitedSeconds.toFixed(0)} s${status.code === 0 ? "" : `:\n${notOkLines(status.out)}`}`,
  );
  return { ...status, waitedSeconds };
}
