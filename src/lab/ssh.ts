import { spawn } from "node:child_process";
import { run } from "./exec.ts";
import { labKeyPath, labKnownHostsPath } from "./identity.ts";
import { inLab } from "./network.ts";
import type { LabHost } from "./plan.ts";

/** ssh to a lab host as root, host key pinned by the lab's known_hosts, from the lab namespace. */
export function sshCommand(
  host: LabHost,
  command: string[],
  opts: { tty?: boolean } = {},
): [string, string[]] {
  const args = [
    "-i",
    labKeyPath(),
    "-o",
    `UserKnownHostsFile=${labKnownHostsPath()}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=3",
    "-o",
    "LogLevel=ERROR",
    opts.tty ? "-t" : "-T",
    `root@${host.addresses.management}`,
    ...(command.length > 0 ? ["--", ...command] : []),
  ];
  return inLab("ssh", args);
}

/**
 * Runs a command on a lab host; `input` goes to its stdin (the way to hand it a secret). Each
 * element of `command` arrives as one word: ssh joins its arguments for the remote shell, so they
 * are quoted here.
 */
export async function sshRun(
  host: LabHost,
  command: string[],
  opts: { timeoutMs?: number; input?: string } = {},
) {
  const [cmd, args] = sshCommand(host, command.map(remoteQuote));
  return run(cmd, args, { timeoutMs: opts.timeoutMs ?? 30_000, input: opts.input });
}

/** Runs ssh with this terminal attached and resolves to its exit code. */
export function sshInteractive(host: LabHost, command: string[]): Promise<number> {
  const [cmd, args] = sshCommand(host, command, { tty: command.length === 0 && process.stdin.isTTY });
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: "inherit" });
    child.on("error", () => resolve(127));
    child.on("close", (code) => resolve(code ?? 255));
  });
}

/** Waits until sshd on the host accepts our key; resolves to the milliseconds it took. */
export async function waitForSsh(host: LabHost, timeoutMs: number): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    // Generous per attempt: on a loaded machine (load 20+ on 2 cores) one SSH handshake took
    // 12-17 s, and a 5 s cut-off made `lab up` fail with every host answering.
    const result = await sshRun(host, ["true"], { timeoutMs: 30_000 });
    if (result.code === 0) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

function remoteQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
