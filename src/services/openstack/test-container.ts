/**
 * @module
 * For tests: a lab-image container that stays up while a test runs real deploy steps against it
 * through a Transport, as the deploy engine would over SSH. `runInImage` runs one script; here the
 * script starts the daemons, marks itself ready and waits, and commands enter its namespaces with
 * nsenter. Daemons must be started by the setup script (they then die with the container).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, readdir, readFile, writeFile } from "node:fs/promises";
import { type RunOptions, type RunResult, runInImage } from "../../testing/real-tools.ts";
import { wrapCommand } from "../../transport/remote-commands.ts";
import { ShellTransport } from "../../transport/shell-transport.ts";
import type { ExecOptions, ExecResultRaw } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Runs commands inside the container whose process is `pid` (all its namespaces and its root). */
export class NsenterTransport extends ShellTransport {
  readonly name: string;
  readonly #pid: number;

  constructor(name: string, pid: number) {
    super();
    this.name = name;
    this.#pid = pid;
  }

  execRaw(command: string[] | string, opts: ExecOptions = {}): Promise<ExecResultRaw> {
    const line = wrapCommand(command, { env: opts.env });
    const started = performance.now();
    const args = [
      "-t",
      String(this.#pid),
      "-m",
      "-u",
      "-i",
      "-n",
      "-p",
      "-r",
      "-w",
      "--",
      "/bin/sh",
      "-c",
      line,
    ];
    return new Promise((resolve, reject) => {
      const child = spawn("nsenter", args, {
        env: { PATH, HOME: "/root", LANG: "C.UTF-8" },
        stdio: ["pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.stdin.on("error", () => {});
      child.stdin.end(opts.stdin ?? "");
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(
          new HastackError("E_COMMAND_START", `Cannot run a command on ${this.name}: ${e.message}`, {
            cause: e,
          }),
        );
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({
          code: code ?? 255,
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err),
          durationMs: performance.now() - started,
        });
      });
    });
  }

  async close(): Promise<void> {}
}

export interface Container {
  transport: NsenterTransport;
  /**
   * The container's root as the test process sees it (/proc/<pid>/root): a Unix socket a daemon
   * binds in there is reachable from the test through this path, its private network aside.
   */
  root: string;
  /** Ends the wait; resolves with the container script's output (its daemons' logs, if it prints them). */
  stop(): Promise<RunResult>;
}

/**
 * The oldest process whose root holds the marker file: the container's init, which lives as
 * long as the container. Not the first one /proc lists: once pids wrap around, that may be a
 * `sleep` of the wait loop, gone 0.2 s later with its /proc/<pid>/root (a store test lost its
 * socket path and its stop() that way, and left the container running).
 */
async function findPid(marker: string): Promise<number | undefined> {
  let oldest: { pid: number; start: number } | undefined;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const found = await access(`/proc/${entry}/root${marker}`).then(
      () => true,
      () => false,
    );
    if (!found) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Field 22, starttime, counted after the command name (which may hold spaces) and its ")".
    const start = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    if (!Number.isFinite(start)) continue;
    if (!oldest || start < oldest.start) oldest = { pid: Number(entry), start };
  }
  return oldest?.pid;
}

/**
 * Starts a container running `setup` (a bash script that starts daemons and waits for them), then
 * keeps it up until stop(). Rejects with the container's output when setup fails or never ends.
 */
export async function startContainer(
  name: string,
  setup: string,
  options: RunOptions & { readyTimeoutMs?: number } = {},
): Promise<Container> {
  const token = randomBytes(6).toString("hex");
  const ready = `/tmp/hastack-ready-${token}`;
  const stopFile = `/tmp/hastack-stop-${token}`;
  const script = `set -e\n${setup}\nset +e\ntouch ${ready}\nwhile [ ! -e ${stopFile} ]; do sleep 0.2; done\n`;
  let ended: RunResult | Error | undefined;
  const done = runInImage(script, { ...options, timeoutMs: options.timeoutMs ?? 600_000 }).then(
    (r) => {
      ended = r;
      return r;
    },
    (e: unknown) => {
      ended = e instanceof Error ? e : new Error(String(e));
      throw ended;
    },
  );
  done.catch(() => {});
  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  for (;;) {
    const pid = await findPid(ready);
    if (pid !== undefined) {
      return {
        transport: new NsenterTransport(name, pid),
        root: `/proc/${pid}/root`,
        async stop() {
          await writeFile(`/proc/${pid}/root${stopFile}`, "");
          return done;
        },
      };
    }
    if (ended !== undefined || Date.now() > deadline) {
      const detail = ended instanceof Error ? ended.message : ended ? `${ended.stdout}\n${ended.stderr}` : "";
      throw new HastackError(
        "E_TEST_CONTAINER",
        `Cannot start the ${name} container: ${detail.slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
