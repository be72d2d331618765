/**
 * @module
 * The `ceph` command line through a Transport: JSON answers parsed with zod, failures as
 * E_CEPH naming what, where and Ceph's own last words. Every call carries a connect timeout: with
 * no monitor quorum `ceph` would otherwise wait forever.
 */
import type { z } from "zod";
import { parseToolJson, parseToolOutput, runTool } from "../../hostkit/command.ts";
import type { ExecOptions, ExecResult, Transport } from "../../transport/types.ts";

export interface CephCallOptions extends ExecOptions {
  /** Seconds `ceph` waits for a monitor. @default 10 */
  connectTimeoutS?: number;
  /** Another identity than client.admin: `client.glance` with its keyring. */
  id?: { name: string; keyring: string };
}

export function cephArgv(args: readonly string[], opts: CephCallOptions = {}): string[] {
  const who = opts.id ? ["-n", opts.id.name, "-k", opts.id.keyring] : [];
  return ["ceph", "--connect-timeout", String(opts.connectTimeoutS ?? 10), ...who, ...args];
}

/** Runs `ceph ARGS`; throws E_CEPH "Cannot <what> on sto1: exit code 1: ...". */
export function ceph(
  t: Transport,
  what: string,
  args: readonly string[],
  opts: CephCallOptions = {},
): Promise<ExecResult> {
  return runTool(t, "E_CEPH", what, cephArgv(args, opts), { timeoutMs: 60_000, ...opts });
}

/** `ceph ARGS -f json`, parsed and checked against `schema`. */
export async function cephJson<S extends z.ZodType>(
  t: Transport,
  args: readonly string[],
  schema: S,
  opts: CephCallOptions = {},
): Promise<z.output<S>> {
  const tool = `ceph ${args.slice(0, 3).join(" ")}`;
  const r = await ceph(t, `read ${tool}`, [...args, "-f", "json"], opts);
  return parseToolOutput(t, tool, schema, parseToolJson(t, tool, r.stdout));
}

/**
 * `rbd ARGS` as a cephx client (`-n client.glance -k KEYRING`), under coreutils' timeout: rbd has
 * no connect timeout of its own and waits for a monitor forever.
 */
export function rbdArgv(
  args: readonly string[],
  id: { name: string; keyring: string },
  opts: { timeoutS?: number } = {},
): string[] {
  return ["timeout", String(opts.timeoutS ?? 20), "rbd", "-n", id.name, "-k", id.keyring, ...args];
}

/** `rbd ARGS --format json` as `id`, parsed and checked against `schema`. */
export async function rbdJson<S extends z.ZodType>(
  t: Transport,
  args: readonly string[],
  id: { name: string; keyring: string },
  schema: S,
  opts: ExecOptions & { timeoutS?: number; wrap?: (argv: string[]) => string[] } = {},
): Promise<z.output<S>> {
  const { timeoutS, wrap, ...exec } = opts;
  const tool = `rbd ${args.slice(0, 2).join(" ")}`;
  const argv = rbdArgv([...args, "--format", "json"], id, timeoutS === undefined ? {} : { timeoutS });
  // `wrap`: run it as another account (runuser -u glance --), to prove that account can read the key.
  const r = await runTool(t, "E_CEPH", `run ${tool} as ${id.name}`, wrap?.(argv) ?? argv, {
    timeoutMs: 60_000,
    ...exec,
  });
  return parseToolOutput(t, tool, schema, parseToolJson(t, tool, r.stdout));
}
