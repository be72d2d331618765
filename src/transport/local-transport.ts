import { spawn } from "node:child_process";
import { posix } from "node:path";
import { HastackError } from "../util/errors.ts";
import { wrapCommand } from "./remote-commands.ts";
import { ShellTransport } from "./shell-transport.ts";
import type { ExecOptions, ExecResultRaw } from "./types.ts";

export interface LocalTransportOptions {
  /** Host name used in messages. @default "localhost" */
  name?: string;
  /**
   * Files are read and written under this directory (tests deploy into a temp dir). Commands see
   * it as $HASTACK_ROOT.
   */
  root?: string;
  /** @default false */
  sudo?: boolean;
}

/** Runs on this machine through /bin/sh: the same command lines the SSH transport sends. */
export class LocalTransport extends ShellTransport {
  readonly name: string;
  readonly root: string | undefined;
  readonly #sudo: boolean;

  constructor(opts: LocalTransportOptions = {}) {
    super();
    this.name = opts.name ?? "localhost";
    this.root = opts.root;
    this.#sudo = opts.sudo ?? false;
    const root = opts.root;
    if (root !== undefined) this.mapPath = (p) => posix.join(root, p);
  }

  execRaw(command: string[] | string, opts: ExecOptions = {}): Promise<ExecResultRaw> {
    const line = wrapCommand(command, { env: opts.env, sudo: opts.sudo ?? this.#sudo });
    const timeoutMs = opts.timeoutMs ?? 600_000;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn("/bin/sh", ["-c", line], {
        env: { ...process.env, ...(this.root ? { HASTACK_ROOT: this.root } : {}) },
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let failure: HastackError | undefined;
      const kill = (why: HastackError) => {
        failure ??= why;
        // The whole process group: a shell's children must not outlive a timeout.
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {}
      };
      const timer = setTimeout(
        () =>
          kill(
            new HastackError("E_COMMAND_TIMEOUT", `Command timed out after ${timeoutMs} ms on ${this.name}`),
          ),
        timeoutMs,
      );
      const onAbort = () => kill(new HastackError("E_COMMAND_ABORTED", `Command aborted on ${this.name}`));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.stdin.on("error", () => {}); // the command may exit without reading stdin
      child.stdin.end(opts.stdin ?? "");
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(
          new HastackError("E_COMMAND_START", `Cannot run a command on ${this.name}: ${e.message}`, {
            cause: e,
          }),
        );
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        if (failure) return reject(failure);
        resolve({
          code: code ?? (signal ? 128 + 9 : 255),
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err),
          durationMs: performance.now() - started,
        });
      });
    });
  }

  async close(): Promise<void> {}
}
