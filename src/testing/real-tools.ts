import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { services } from "../services/registry.ts";
import type { Component } from "../services/types.ts";
import { HastackError } from "../util/errors.ts";

/**
 * Runs the real Debian 13 tools (haproxy, crm_verify, mariadbd, rabbitmq...) against rendered
 * files, inside a throwaway systemd-nspawn container on the lab image:
 * - `--volatile=overlay`: the image is the read-only lower layer; every write lands in a tmpfs
 *   that vanishes with the container, so tests never modify the cached image;
 * - `--private-network`: the container sees only its own loopback; addresses the configs bind
 *   (a controller's management IP) are added to that loopback;
 * - its own cgroup (name=systemd and unified), as the lab feasibility notes require: nspawn
 *   with --keep-unit from the root cgroup would share /payload with every other container.
 */

export interface PlacedFile {
  /** Absolute path inside the container. */
  path: string;
  content: string | Buffer;
  mode?: number;
  /** "user:group", when that account exists in the image. */
  owner?: string;
}

export interface RunOptions {
  /** Files installed at their paths before the command runs. */
  files?: PlacedFile[];
  hostname?: string;
  /** Addresses added to the container's loopback (a /32 each), e.g. the node's management IP. */
  addresses?: string[];
  /** Default 60 s; the container is killed (cgroup.kill) when it runs longer. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

let rootPromise: Promise<string> | undefined;

/** HASTACK_TOOL_ROOT when set (a prebuilt trixie root), else the lab image (built on first use). */
export function toolRoot(): Promise<string> {
  rootPromise ??= resolveRoot();
  return rootPromise;
}

async function resolveRoot(): Promise<string> {
  const fromEnv = process.env.HASTACK_TOOL_ROOT;
  if (fromEnv) return fromEnv;
  // A computed specifier: the lab module is another engineer's and may not exist in this tree yet.
  const specifier = "../lab/image.ts";
  const lab = (await import(specifier)) as {
    ensureImage(opts: { components: readonly Component[] }): Promise<string>;
  };
  return lab.ensureImage({ components: services.flatMap((s) => s.components ?? []) });
}

/** Runs argv (or a bash script when given a string) in a fresh container; never throws on exit codes. */
export async function runInImage(command: string[] | string, options: RunOptions = {}): Promise<RunResult> {
  const root = await toolRoot();
  const work = await mkdtemp(join(tmpdir(), "hastack-tools-"));
  const name = `hastack-tools-${randomBytes(4).toString("hex")}`;
  const cgroups = await containerCgroups(name);
  try {
    const prelude = await stage(work, options);
    const main = typeof command === "string" ? command : command.map(shellWord).join(" ");
    await writeFile(join(work, "run.sh"), `${prelude}\n${main}\n`);
    const args = [
      ...baseNspawnArgs(name, options.hostname ?? "hastack-tools", root),
      "--as-pid2",
      `--bind-ro=${work}:/check`,
      "--pipe",
      "--",
      "/bin/bash",
      "/check/run.sh",
    ];
    return await spawnInCgroup(cgroups, args, options.timeoutMs ?? 60_000);
  } finally {
    await removeContainerCgroups(cgroups, name);
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * nspawn's arguments every test container shares: the image the read-only lower layer of a
 * tmpfs overlay, its own network namespace, its own cgroups (the caller's, `containerCgroups`).
 */
export function baseNspawnArgs(machine: string, hostname: string, root: string): string[] {
  return [
    "--quiet",
    "--register=no",
    "--keep-unit",
    "--volatile=overlay",
    "--private-network",
    `--machine=${machine}`,
    `--hostname=${hostname}`,
    "-D",
    root,
  ];
}

/** A container's own cgroups, made empty: the unified one (kill, freeze) first, then name=systemd. */
export async function containerCgroups(machine: string): Promise<string[]> {
  const dirs = ["unified", "systemd"].map((h) => `/sys/fs/cgroup/${h}/${machine}`);
  for (const dir of dirs) await mkdir(dir);
  return dirs;
}

/** systemd-nspawn started inside `cgroups` (with --keep-unit the payload gets a cgroup of its own there). */
export function spawnNspawn(cgroups: readonly string[], args: readonly string[]): ChildProcess {
  const enter = cgroups.map((dir) => `echo $$ > ${dir}/cgroup.procs`).join(" && ");
  return spawn("bash", ["-c", `${enter} && exec systemd-nspawn "$@"`, "nspawn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export async function removeContainerCgroups(cgroups: readonly string[], machine: string): Promise<void> {
  for (const dir of cgroups) await removeCgroup(dir);
  await rm(`/run/systemd/nspawn/propagate/${machine}`, { recursive: true, force: true });
}

/** Writes the files to the staging dir and returns the shell lines that install them. */
async function stage(work: string, options: RunOptions): Promise<string> {
  // nspawn hands the payload a notify socket; daemons that speak sd_notify (RabbitMQ's Erlang
  // systemd app) trip over it outside a systemd unit.
  const lines: string[] = ["unset NOTIFY_SOCKET"];
  for (const address of options.addresses ?? []) lines.push(`ip addr add ${address}/32 dev lo || exit 90`);
  await mkdir(join(work, "files"));
  for (const [i, file] of (options.files ?? []).entries()) {
    await writeFile(join(work, "files", String(i)), file.content);
    const mode = (file.mode ?? 0o644).toString(8);
    lines.push(`install -D -m ${mode} /check/files/${i} ${shellWord(file.path)} || exit 90`);
    if (file.owner) lines.push(`chown ${shellWord(file.owner)} ${shellWord(file.path)}`);
  }
  return lines.join("\n");
}

function spawnInCgroup(cgroups: string[], args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawnNspawn(cgroups, args);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // Killing nspawn would orphan the container; killing its cgroup ends everything in it.
      void writeFile(`${cgroups[0]}/payload/cgroup.kill`, "1").catch(() => child.kill("SIGTERM"));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new HastackError("E_COMMAND_TIMEOUT", `Container run exceeded ${timeoutMs} ms`, {
            hint: `stdout tail: ${stdout.slice(-2000)}\nstderr tail: ${stderr.slice(-2000)}`,
          }),
        );
        return;
      }
      resolve({ code: code ?? -1, stdout, stderr: stripNspawnNoise(stderr) });
    });
  });
}

/** nspawn's complaint about a non-tmpfs /run on this host is harmless (lab feasibility P13). */
function stripNspawnNoise(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !l.startsWith("Attempted to remove disk file system under"))
    .join("\n");
}

async function removeCgroup(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await removeCgroup(join(dir, entry.name));
  await rmdir(dir).catch(() => {});
}

export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
