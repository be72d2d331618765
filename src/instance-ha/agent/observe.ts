/**
 * @module
 * One observation of what the compute sees: nova-compute and libvirt alive, the VMs libvirt
 * runs, the storage network reachable. Every probe is bounded by a timeout and never throws: a
 * probe that fails is itself the signal (libvirt hung, the storage link down), and the agent must
 * go on sending heartbeats whatever it sees, or a sick host would look like a dead one.
 */
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { z } from "zod";
import { MAX_VMS } from "../heartbeat.ts";
import type { AgentConfig, Target } from "./config.ts";

export interface CommandResult {
  /** The exit code; null when the command did not run, or was killed (timeout). */
  code: number | null;
  stdout: string;
  /** Why it failed when it did not exit 0: stderr's tail, "timed out", "ENOENT"... */
  failure?: string;
}

/** Runs a command with a timeout; resolves in every case (tests inject their own). */
export type CommandRunner = (argv: readonly string[], timeoutMs: number) => Promise<CommandResult>;

/** Says whether a TCP connection to the target opens within the timeout. */
export type TcpProbe = (target: Target, timeoutMs: number) => Promise<boolean>;

/** The outputs of the probes are small: anything larger is a bug, not data. */
const MAX_OUTPUT_BYTES = 256 * 1024;

export function spawnRunner(): CommandRunner {
  return (argv, timeoutMs) =>
    new Promise((resolve) => {
      const [file, ...args] = argv;
      if (!file) {
        resolve({ code: null, stdout: "", failure: "empty command" });
        return;
      }
      execFile(
        file,
        args,
        // SIGKILL: a virsh stuck on a hung libvirtd may ignore SIGTERM; the next probe comes anyway.
        { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: MAX_OUTPUT_BYTES, encoding: "utf8" },
        (error, stdout, stderr) => {
          if (!error) {
            resolve({ code: 0, stdout });
            return;
          }
          const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
          const failure = e.killed
            ? `timed out after ${timeoutMs} ms`
            : typeof e.code === "string"
              ? e.code
              : lastLine(stderr) || lastLine(stdout) || `exit code ${e.code}`;
          resolve({ code: typeof e.code === "number" ? e.code : null, stdout, failure });
        },
      );
    });
}

export function tcpProbe(): TcpProbe {
  return (target, timeoutMs) =>
    new Promise((resolve) => {
      const socket = connect({ host: target.address, port: target.port });
      const done = (ok: boolean) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
    });
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.slice(0, 200) ?? "";
}

export interface Observation {
  novaCompute: boolean;
  libvirt: boolean;
  storageReachable: boolean;
  vms: string[];
  /** What failed, one line each, for the agent's (rate-limited) warnings; empty when all is well. */
  problems: string[];
}

export interface ObserveDeps {
  run: CommandRunner;
  connect: TcpProbe;
}

/** `systemctl is-active` prints one state per unit, in order: "active", "inactive", "failed"... */
const UnitStates = z.array(z.string().regex(/^[a-z-]+$/));

/**
 * Each unit's state, from one `systemctl is-active` for all of them: one process a second rather
 * than one per group (the agent runs on every compute, its cost multiplied by their number).
 * Undefined when systemctl gave no state per unit (it hung, or could not reach systemd).
 */
async function unitStates(
  run: CommandRunner,
  units: readonly string[],
  timeoutMs: number,
): Promise<{ states?: ReadonlyMap<string, string>; problem?: string }> {
  const r = await run(["systemctl", "is-active", ...units], timeoutMs);
  const lines = r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n");
  const parsed = UnitStates.length(units.length).safeParse(lines);
  if (!parsed.success) {
    return { problem: `systemctl is-active ${units.join(" ")}: ${r.failure ?? "unexpected output"}` };
  }
  const states = new Map(units.map((unit, i) => [unit, parsed.data[i] as string]));
  const down = [...states].filter(([, state]) => state !== "active");
  return down.length === 0
    ? { states }
    : { states, problem: down.map(([u, state]) => `${u} ${state}`).join(", ") };
}

function allActive(states: ReadonlyMap<string, string> | undefined, units: readonly string[]): boolean {
  return states !== undefined && units.every((unit) => states.get(unit) === "active");
}

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/** `virsh list --uuid`: one uuid a line, a blank line at the end. */
export function parseVirshUuids(stdout: string): z.ZodSafeParseResult<string[]> {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return z.array(Uuid).safeParse(lines);
}

async function runningVms(
  run: CommandRunner,
  uri: string,
  timeoutMs: number,
): Promise<{ ok: boolean; vms: string[]; problem?: string }> {
  const r = await run(["virsh", "-c", uri, "list", "--uuid"], timeoutMs);
  if (r.code !== 0)
    return { ok: false, vms: [], problem: `virsh list: ${r.failure ?? `exit code ${r.code}`}` };
  const parsed = parseVirshUuids(r.stdout);
  if (!parsed.success) return { ok: false, vms: [], problem: "virsh list: output is not one uuid a line" };
  const vms = [...new Set(parsed.data)].sort();
  if (vms.length > MAX_VMS) {
    // A heartbeat holds MAX_VMS; the list only informs the engine, the liveness still counts.
    return { ok: true, vms: vms.slice(0, MAX_VMS), problem: `${vms.length} VMs, only ${MAX_VMS} reported` };
  }
  return { ok: true, vms };
}

/**
 * Reachable when any one monitor accepts a TCP connection. Any, not a majority: a false
 * "unreachable" gets a live host fenced, while a partial cut is still seen by the engine through
 * the storage-network copy of the heartbeat going silent. No target: nothing to probe, reachable.
 */
async function storageReachable(
  probe: TcpProbe,
  targets: readonly Target[],
  timeoutMs: number,
): Promise<{ ok: boolean; problem?: string }> {
  if (targets.length === 0) return { ok: true };
  const answers = await Promise.all(targets.map((t) => probe(t, timeoutMs)));
  if (answers.some(Boolean)) return { ok: true };
  return {
    ok: false,
    problem: `no storage address answered within ${timeoutMs} ms: ${targets.map((t) => `${t.address}:${t.port}`).join(", ")}`,
  };
}

/** One observation, every probe at once; resolves within the largest probe timeout (plus spawn time). */
export async function observe(probes: AgentConfig["probes"], deps: ObserveDeps): Promise<Observation> {
  const units = [...new Set([...probes.nova_compute_units, ...probes.libvirt_units])];
  const [unitsSeen, vms, storage] = await Promise.all([
    unitStates(deps.run, units, probes.command_timeout_ms),
    runningVms(deps.run, probes.libvirt_uri, probes.command_timeout_ms),
    storageReachable(deps.connect, probes.storage, probes.connect_timeout_ms),
  ]);
  const problems = [unitsSeen.problem, vms.problem, storage.problem].filter(
    (p): p is string => p !== undefined,
  );
  return {
    novaCompute: allActive(unitsSeen.states, probes.nova_compute_units),
    // The socket active and the daemon answering: a hung libvirtd with its socket up is down.
    libvirt: allActive(unitsSeen.states, probes.libvirt_units) && vms.ok,
    storageReachable: storage.ok,
    vms: vms.vms,
    problems,
  };
}
