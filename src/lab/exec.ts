import { spawn } from "node:child_process";
import { HastackError } from "../util/errors.ts";
import { lastLines } from "../util/text.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Called with each complete line of stdout and stderr as it arrives (for progress). */
  onLine?: (line: string) => void;
}

/** Runs a program with an argument array (never a shell) and collects its output. Never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    const partial = { out: "", err: "" };
    function feed(key: "out" | "err", chunk: string): void {
      if (!opts.onLine) return;
      const text = partial[key] + chunk;
      const lines = text.split("\n");
      partial[key] = lines.pop() ?? "";
      for (const line of lines) opts.onLine(line);
    }
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      feed("out", c);
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      feed("err", c);
    });
    child.on("error", (error) => {
      reject(new HastackError("E_LAB_EXEC", `Cannot run ${cmd}: ${error.message}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      if (opts.onLine) {
        if (partial.out) opts.onLine(partial.out);
        if (partial.err) opts.onLine(partial.err);
      }
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

/** Runs a program and throws a HastackError naming `what` when it fails. */
export async function runChecked(
  what: string,
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) {
    const detail = lastLines(result.stderr || result.stdout, 5);
    throw new HastackError(
      "E_LAB_COMMAND",
      `Cannot ${what}: ${cmd} exited with code ${result.code}: ${detail}`,
    );
  }
  return result;
}

export { lastLines };
