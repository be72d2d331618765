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
