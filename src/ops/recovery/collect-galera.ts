/**
 * @module
 * The Galera facts of one controller, read over its Transport: whether mariadbd runs, its wsrep
 * status when it answers SQL (the rows the Galera health probe reads), grastate.dat and
 * gvwstate.dat, and the last committed position from `mariadbd --wsrep-recover` when nothing
 * else knows it. A host that cannot be reached is recorded as unreachable; a file or log that
 * is not in Galera's format is an error (galera-state.ts), never a guessed seqno.
 */
import { globalStatus } from "../../hostkit/sql.ts";
import { show } from "../../hostkit/systemd.ts";
import type { ExecOptions, Transport } from "../../transport/types.ts";
import type { GaleraNode } from "./galera-facts.ts";
import {
  GRASTATE_PATH,
  GVWSTATE_PATH,
  parseGrastate,
  parseGvwstate,
  parseRecoveredPosition,
  parseWsrepStatus,
  WSREP_VARIABLES,
} from "./galera-state.ts";
import { PROBE_MS, unreachableWhy, WSREP_RECOVER_MS } from "./reach.ts";
import type { Position } from "./types.ts";

export const MARIADB_UNIT = "mariadb";

/**
 * What galera_recovery (Debian's mariadb.service, ExecStartPre) runs: as the mysql user, the
 * error log on stderr, where the "WSREP: Recovered position" line is read from.
 */
export const WSREP_RECOVER_ARGV = ["mariadbd", "--user=mysql", "--wsrep_recover", "--disable-log-error"];

export interface CollectedGalera {
  node: GaleraNode;
  /** Why it is unreachable: the transport's own sentence. */
  unreachable?: string;
  /** What was found out beyond the files, for the operator ("--wsrep-recover found ..."). */
  notes: string[];
}

export interface GaleraCollectOptions {
  /** Per command. @default PROBE_MS */
  timeoutMs?: number;
  /** For `mariadbd --wsrep-recover`. @default WSREP_RECOVER_MS */
  recoverTimeoutMs?: number;
}

/** systemd's ActiveState values with no process left in the unit. */
const STOPPED_STATES = ["inactive", "failed"];

export async function collectGaleraNode(
  t: Transport,
  options: GaleraCollectOptions = {},
): Promise<CollectedGalera> {
  try {
    return await collect(t, options);
  } catch (error) {
    const why = unreachableWhy(error);
    if (why === undefined) throw error;
    return { node: { host: t.name, state: "unreachable" }, unreachable: why, notes: [] };
  }
}

async function collect(t: Transport, options: GaleraCollectOptions): Promise<CollectedGalera> {
  const host = t.name;
  const opts: ExecOptions = { timeoutMs: options.timeoutMs ?? PROBE_MS };
  const notes: string[] = [];
  // ActiveState, not `is-active`'s exit code: mariadbd waiting for a Primary Component has not
  // told systemd it is ready, so the unit is "activating", and is-active fails as for a stopped
  // one. Running --wsrep-recover beside that live mariadbd would be wrong.
  const { ActiveState: active } = await show(t, MARIADB_UNIT, ["ActiveState"], opts);
  let running = !STOPPED_STATES.includes(active);
  // A mariadbd started by hand (the way operators bootstrap) is not in the unit.
  if (!running && (await t.exec(["pgrep", "-x", "mariadbd"], opts)).code === 0) {
    running = true;
    notes.push(`${host}: mariadbd runs outside the ${MARIADB_UNIT} unit (started by hand?)`);
  }
  const grastateText = await t.readFile(GRASTATE_PATH);
  const gvwstateText = await t.readFile(GVWSTATE_PATH);
  const saved = {
    ...(grastateText ? { grastate: parseGrastate(host, grastateText.toString("utf8")) } : {}),
    ...(gvwstateText ? { gvwstate: parseGvwstate(host, gvwstateText.toString("utf8")) } : {}),
  };
  if (running) {
    const status = await globalStatus(t, WSREP_VARIABLES, opts);
    if (status !== undefined)
      return {
        node: { host, state: "running", wsrep: parseWsrepStatus(host, Object.entries(status)), ...saved },
        notes,
      };
    // Not answering SQL: while it starts, the position galera_recovery gave it is on its
    // command line (startPosition).
    // Deactivating too: a stop that mariadbd ignores (SIGTERM while it waits for peers) leaves it so.
    const recovered =
      active === "activating" || active === "deactivating" ? await startPosition(t, opts) : undefined;
    if (recovered)
      notes.push(`${host}: started from seqno ${recovered.seqno} (galera_recovery's --wsrep_start_position)`);
    return { node: { host, state: "running", ...saved, ...(recovered ? { recovered } : {}) }, notes };
  }
  // Only after a crash (seqno -1) and only while nothing runs: InnoDB then holds the one true
  // position. After a clean stop grastate.dat has it already.
  if (saved.grastate?.seqno !== -1) return { node: { host, state: "stopped", ...saved }, notes };
  const recovered = await wsrepRecover(t, options.recoverTimeoutMs ?? WSREP_RECOVER_MS);
  notes.push(`${host}: mariadbd --wsrep-recover found seqno ${recovered.seqno} (grastate.dat says -1)`);
  return { node: { host, state: "stopped", ...saved, recovered }, notes };
}

async function wsrepRecover(t: Transport, timeoutMs: number): Promise<Position> {
  const r = await t.exec(WSREP_RECOVER_ARGV, { timeoutMs });
  // Whatever the exit code, the log says it: the position line, or mariadbd's [ERROR] line,
  // which the parser puts in its error.
  return parseRecoveredPosition(t.name, r.stderr);
}

/**
 * The position galera_recovery gave mariadbd, on its command line. MariaDB 11.8's unit (Debian
 * 13) runs `VAR=$(galera_recovery); exec mariadbd ... $VAR` inside one sh, so it is in no
 * environment: only the process's argv has it (`pgrep -a`, measured on the lab, 2026-12-03:
 * "161 /usr/sbin/mariadbd --wsrep_start_position=<uuid>:8392"). Older units exported it with
 * `systemctl set-environment _WSREP_START_POSITION=...`, read as a fallback.
 */
const ARGV_POSITION = /--wsrep[-_]start[-_]position=(\S+:-?\d+)/;
const START_POSITION = /^_WSREP_START_POSITION=--wsrep[-_]start[-_]position=(\S+:-?\d+)\s*$/m;

/** galera_recovery's own `mariadbd --wsrep-recover`, before the unit's mariadbd starts. */
const RECOVERING = /--wsrep[-_]recover\b/;
/** How long a start whose position galera_recovery is still recovering is waited for. */
const RECOVERING_WAIT_MS = 60_000;

async function startPosition(t: Transport, opts: ExecOptions): Promise<Position | undefined> {
  // Seconds after a power-on the unit is activating while no mariadbd has its position yet:
  // galera_recovery has not started its `mariadbd --wsrep-recover`, or it still runs (4 s on
  // the lab's ctl1, 2026-12-05). The position comes on the next mariadbd's command line. Read
  // too early, the node looked as if its position could not be known, and recover refused
  // (twice in four power-loss-one-lost runs). A mariadbd of another kind ends the wait.
  const until = Date.now() + RECOVERING_WAIT_MS;
  let argv = await t.exec(["pgrep", "-a", "-x", "mariadbd"], opts);
  for (;;) {
    const other = argv.code === 0 && !RECOVERING.test(argv.stdout);
    if (other || ARGV_POSITION.test(argv.stdout) || Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, 1000));
    argv = await t.exec(["pgrep", "-a", "-x", "mariadbd"], opts);
  }
  let value = argv.code === 0 ? ARGV_POSITION.exec(argv.stdout)?.[1] : undefined;
  let source = "mariadbd's --wsrep_start_position";
  if (value === undefined) {
    const env = await t.exec(["systemctl", "show-environment"], opts);
    value = env.code === 0 ? START_POSITION.exec(env.stdout)?.[1] : undefined;
    source = "_WSREP_START_POSITION";
  }
  if (value === undefined) return undefined;
  // The same grammar as the recovery log's line, parsed (and refused) the same way.
  return parseRecoveredPosition(t.name, `WSREP: Recovered position: ${value}`, source);
}
