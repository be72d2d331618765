/**
 * @module
 * What a Galera node leaves on disk and in its log, parsed through zod: grastate.dat (its history
 * and last committed seqno after a clean stop), gvwstate.dat (the last Primary Component it was
 * in) and `mariadbd --wsrep-recover`'s "Recovered position" line (the seqno InnoDB committed,
 * when grastate.dat says -1 after a crash). These files come from hosts that just lost power: a
 * truncated or garbled one is an error naming the host and the file, never a guessed seqno.
 * Formats as MariaDB 11.8 with galera-4 writes them (fixtures/, captured from the real daemon).
 */
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";
import type { Position } from "./types.ts";

export const GRASTATE_PATH = "/var/lib/mysql/grastate.dat";
export const GVWSTATE_PATH = "/var/lib/mysql/gvwstate.dat";

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "not a uuid");
const Seqno = z
  .string()
  .regex(/^-?\d+$/, "not an integer")
  .transform(Number)
  .pipe(z.int().min(-1, "below -1"));
const Flag = z.enum(["0", "1"]).transform((v) => v === "1");

const GrastateFields = z.object({
  version: z.string().regex(/^\d+(\.\d+)*$/, "not a version"),
  uuid: Uuid,
  seqno: Seqno,
  // Galera before 3.19 did not write it; absent means the node never declared itself safe.
  safe_to_bootstrap: Flag.default(false),
});

export interface Grastate {
  version: string;
  uuid: string;
  /** -1 while the node runs and after a crash; the last committed seqno after a clean stop. */
  seqno: number;
  /** Set by Galera on the last node to leave a Primary Component cleanly. */
  safeToBootstrap: boolean;
}

/** grastate.dat: `key: value` lines. Galera rewrites it in place, padding a shorter file with spaces. */
export function parseGrastate(host: string, text: string, path = GRASTATE_PATH): Grastate {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([a-z_]+):\s*(.*?)\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) fields[match[1]] = match[2];
  }
  const g = check(host, path, GrastateFields, fields);
  return { version: g.version, uuid: g.uuid, seqno: g.seqno, safeToBootstrap: g.safe_to_bootstrap };
}

const GvwstateFields = z.object({
  my_uuid: Uuid,
  view_id: z.tuple([z.string().regex(/^\d+$/).transform(Number), Uuid, Seqno]),
  bootstrap: Flag,
  members: z.array(z.tuple([Uuid, z.string().regex(/^\d+$/).transform(Number)])).min(1, "no member"),
  complete: z.literal(true, "no #vwend line (the file is cut short)"),
});

export interface Gvwstate {
  /** This node's gcomm uuid: a node restarted with this file keeps it (pc.recovery). */
  myUuid: string;
  /** Galera saves Primary views only (view type 3); `seq` grows with each new view. */
  view: { type: number; uuid: string; seq: number };
  bootstrap: boolean;
  members: { uuid: string; segment: number }[];
}

/**
 * gvwstate.dat: the last Primary Component view. Galera writes it while the node is in a Primary
 * Component and deletes it on a clean stop, so after a crash it names every member Galera waits
 * for before it restores that Primary Component by itself.
 */
export function parseGvwstate(host: string, text: string, path = GVWSTATE_PATH): Gvwstate {
  const fields: Record<string, unknown> = { members: [], complete: false };
  const members: string[][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "#vwend") fields.complete = true;
    const match = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const words = match[2].split(/\s+/);
    if (match[1] === "member") members.push(words);
    else if (match[1] === "view_id") fields.view_id = words;
    else fields[match[1]] = match[2];
  }
  fields.members = members;
  const g = check(host, path, GvwstateFields, fields);
  const [type, uuid, seq] = g.view_id;
  return {
    myUuid: g.my_uuid,
    view: { type, uuid, seq },
    bootstrap: g.bootstrap,
    members: g.members.map(([memberUuid, segment]) => ({ uuid: memberUuid, segment })),
  };
}

const RECOVERED = /WSREP: Recovered position:\s*(\S+):(-?\d+)\s*$/;

/**
 * The position in `mariadbd --wsrep-recover`'s error log (stderr with --disable-log-error, as
 * galera_recovery runs it, or the journal). The last such line wins: a journal may hold several
 * recoveries. `EMPTY_UUID:-1` is a datadir that never joined a cluster.
 */
export function parseRecoveredPosition(
  host: string,
  log: string,
  source = "mariadbd --wsrep-recover",
): Position {
  const lines = log.split("\n");
  const line = lines.findLast((l) => RECOVERED.test(l));
  if (line === undefined) {
    const skipped = lines.some((l) => l.includes("skipping position recovery"));
    const error = lines.findLast((l) => /\[ERROR\]/.test(l))?.replace(/^.*?\[ERROR\]\s*/, "");
    const why = skipped
      ? "wsrep is off in this configuration"
      : error
        ? `mariadbd said: ${error.slice(0, 200)}`
        : "no line 'WSREP: Recovered position' in its log";
    throw new HastackError(
      "E_GALERA_STATE",
      `Cannot read the recovered position of ${host} from ${source}: ${why}`,
    );
  }
  const [, uuid = "", seqno = ""] = RECOVERED.exec(line) ?? [];
  const position = check(host, source, z.object({ uuid: Uuid, seqno: Seqno }), { uuid, seqno });
  return position;
}

const WsrepFields = z.object({
  wsrep_cluster_status: z.string().min(1),
  wsrep_local_state_comment: z.string().min(1),
  wsrep_local_state_uuid: Uuid,
  wsrep_last_committed: Seqno,
  wsrep_cluster_size: z.string().regex(/^\d+$/).transform(Number),
});

/** The `SHOW GLOBAL STATUS` variables the decision reads, by name. */
export const WSREP_VARIABLES = Object.keys(WsrepFields.shape);

export interface WsrepStatus {
  /** "Primary", "non-Primary" (a survivor waiting for its peers) or "Disconnected". */
  clusterStatus: string;
  /** "Synced", "Donor/Desynced", "Joining", "Joined", "Initialized" (non-Primary)... */
  localState: string;
  position: Position;
  clusterSize: number;
}

/** SHOW GLOBAL STATUS rows (name, value) of a running node. */
export function parseWsrepStatus(host: string, rows: readonly (readonly string[])[]): WsrepStatus {
  const s = check(host, "SHOW GLOBAL STATUS (wsrep)", WsrepFields, Object.fromEntries(rows));
  return {
    clusterStatus: s.wsrep_cluster_status,
    localState: s.wsrep_local_state_comment,
    position: { uuid: s.wsrep_local_state_uuid, seqno: s.wsrep_last_committed },
    clusterSize: s.wsrep_cluster_size,
  };
}

function check<S extends z.ZodType>(host: string, what: string, schema: S, data: unknown): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const where = result.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`)
    .join("; ");
  throw new HastackError("E_GALERA_STATE", `Cannot read ${what} on ${host}: ${where}`, {
    hint: "a file cut short by a power loss, or edited by hand: look at it on the host before recovering",
  });
}
