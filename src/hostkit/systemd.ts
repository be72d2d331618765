/**
 * @module
 * systemd units on a host, one vocabulary for deploy steps, the engine's restarts and probes.
 * Queries answer booleans or parsed properties; changes throw E_SYSTEMD naming unit and host.
 */
import type { ExecOptions, Transport } from "../transport/types.ts";
import { runTool } from "./command.ts";

export type SystemctlVerb =
  | "start"
  | "stop"
  | "restart"
  | "reload-or-restart"
  | "enable"
  | "disable"
  | "mask"
  | "unmask"
  | "reset-failed"
  | "daemon-reload";

/** The systemctl command line for a change (the deploy engine's UnitControl is built from it). */
export function systemctlArgv(verb: SystemctlVerb, units: readonly string[] = [], now = false): string[] {
  return ["systemctl", verb, ...(now ? ["--now"] : []), ...units];
}

/** Exits 0 when the unit is running (the deploy engine's UnitControl runs it as a test). */
export function isActiveArgv(unit: string): string[] {
  return ["systemctl", "is-active", "--quiet", unit];
}

export async function isActive(t: Transport, unit: string, opts?: ExecOptions): Promise<boolean> {
  return (await t.exec(isActiveArgv(unit), opts)).code === 0;
}

/** The unit file exists on the host (installed by its package or written by a files step). */
export async function unitExists(t: Transport, unit: string, opts?: ExecOptions): Promise<boolean> {
  return (await t.exec(["systemctl", "cat", "--", unit], opts)).code === 0;
}

/** Enabled at boot in systemd's sense (enabled, enabled-runtime, static, alias, indirect...). */
export async function isEnabled(t: Transport, unit: string, opts?: ExecOptions): Promise<boolean> {
  return (await t.exec(["systemctl", "is-enabled", "--quiet", unit], opts)).code === 0;
}

/** The units of `units` that are enabled at boot, so a step can say which ones it disables. */
export async function enabledOf(
  t: Transport,
  units: readonly string[],
  opts?: ExecOptions,
): Promise<string[]> {
  const out: string[] = [];
  for (const u of units) if (await isEnabled(t, u, opts)) out.push(u);
  return out;
}

export async function inactiveOf(
  t: Transport,
  units: readonly string[],
  opts?: ExecOptions,
): Promise<string[]> {
  const out: string[] = [];
  for (const u of units) if (!(await isActive(t, u, opts))) out.push(u);
  return out;
}

/** `systemctl show -p A,B`: "A=value" lines; a value may itself contain "=". */
export function parseShow(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return props;
}

/** Properties of a unit (ActiveState, UnitFileState, NeedDaemonReload, ConditionResult...). */
export async function show<P extends string>(
  t: Transport,
  unit: string,
  props: readonly P[],
  opts?: ExecOptions,
): Promise<Record<P, string>> {
  const r = await runTool(
    t,
    "E_SYSTEMD",
    `read the state of ${unit}`,
    ["systemctl", "show", unit, "-p", props.join(",")],
    opts,
  );
  const parsed = parseShow(r.stdout);
  return Object.fromEntries(props.map((p) => [p, parsed[p] ?? ""])) as Record<P, string>;
}

/** Changes units; throws E_SYSTEMD "Cannot start etcd on ctl1: exit code 1: ...". */
export async function systemctl(
  t: Transport,
  verb: SystemctlVerb,
  units: readonly string[],
  opts?: ExecOptions & { now?: boolean },
): Promise<void> {
  const what = verb === "daemon-reload" ? "reload systemd's unit files" : `${verb} ${units.join(" ")}`;
  await runTool(t, "E_SYSTEMD", what, systemctlArgv(verb, units, opts?.now), opts);
}

/**
 * Starts or restarts units on purpose, with their start counter flushed before and after.
 * systemd counts every start toward StartLimitBurst (Ceph's units allow 3 in 30 min), so
 * deliberate restarts (a rolling restart, maintenance, replace-osd) used up the budget: an OSD
 * killed afterwards was not restarted, and the next rolling restart was refused ("Start request
 * repeated too quickly", both seen on the lab). Before: a start asked for on purpose is never
 * refused for earlier ones; after: it leaves a crash its full budget of automatic restarts.
 */
export async function startDeliberately(
  t: Transport,
  verb: "start" | "restart",
  units: readonly string[],
  opts?: ExecOptions,
): Promise<void> {
  // A unit not loaded yet (a new OSD id) has no counter: systemctl says so and exits 1.
  await t.exec(systemctlArgv("reset-failed", units), opts);
  await systemctl(t, verb, units, opts);
  await systemctl(t, "reset-failed", units, opts);
}

/** Sends a signal to every process of a unit (drills: `SIGKILL` is a crash, not a stop). */
export async function killUnit(
  t: Transport,
  unit: string,
  signal = "SIGKILL",
  opts?: ExecOptions,
): Promise<void> {
  await runTool(
    t,
    "E_SYSTEMD",
    `kill ${unit} with ${signal}`,
    ["systemctl", "kill", `--signal=${signal}`, unit],
    opts,
  );
}

/** Enabled at boot and running (started only where it is not). */
export async function ensureRunning(
  t: Transport,
  units: readonly string[],
  opts?: ExecOptions,
): Promise<void> {
  const off = await enabledOf(t, units, opts).then((on) => units.filter((u) => !on.includes(u)));
  if (off.length > 0) await systemctl(t, "enable", off, opts);
  const stopped = await inactiveOf(t, units, opts);
  if (stopped.length > 0) await systemctl(t, "start", stopped, opts);
}

/** Enabled and active, every one of them. */
export async function allRunning(
  t: Transport,
  units: readonly string[],
  opts?: ExecOptions,
): Promise<boolean> {
  return (
    (await enabledOf(t, units, opts)).length === units.length &&
    (await inactiveOf(t, units, opts)).length === 0
  );
}
