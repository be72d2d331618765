/**
 * @module
 * The shell a restore runs on a controller, as functions of paths and positions only (MariaDB is
 * reached as the OS root over its socket; no secret is ever in these scripts). The datadir is
 * only ever renamed aside, never deleted: the one thing a script wipes is the fresh datadir
 * that took the old one's place, and only once the old one is where the restore state says.
 */
import { z } from "zod";
import { shellQuoteArg as q } from "../../transport/shell-quote.ts";
import { HastackError } from "../../util/errors.ts";
import { DATADIR } from "./restore-state.ts";
import { PRELUDE, requireOk } from "./scripts.ts";

/** Where a restore unpacks and prepares the backup (removed once moved back, or on failure). */
export function restoreSpool(id: string): string {
  return `/var/tmp/hastack-restore-${id}`;
}

/** The datadir's neighbours a restore cares about: earlier set-aside datadirs, and a mount. */
export const DATADIR_FACTS_SCRIPT = [
  "set -u",
  `for d in ${DATADIR}.before-restore-*; do [ -e "$d" ] && echo "aside $d"; done`,
  `if mountpoint -q ${DATADIR} 2> /dev/null; then echo "mountpoint yes"; else echo "mountpoint no"; fi`,
].join("\n");

export interface DatadirFacts {
  asides: string[];
  mountpoint: boolean;
}

export function parseDatadirFacts(host: string, stdout: string): DatadirFacts {
  const facts: DatadirFacts = { asides: [], mountpoint: false };
  let answered = false;
  for (const line of stdout.split("\n").filter((l) => l.trim() !== "")) {
    const aside = /^aside (\/\S+)$/.exec(line);
    if (aside?.[1]) facts.asides.push(aside[1]);
    else if (/^mountpoint (yes|no)$/.test(line)) {
      answered = true;
      facts.mountpoint = line.endsWith("yes");
    } else
      throw new HastackError(
        "E_TOOL_OUTPUT",
        `Cannot read the datadir facts on ${host}: unexpected line ${JSON.stringify(line.slice(0, 120))}`,
      );
  }
  if (!answered)
    throw new HastackError("E_TOOL_OUTPUT", `Cannot read the datadir facts on ${host}: no mountpoint line`);
  return facts;
}

/**
 * Moves the datadir aside (unless the state says it went already: then `aside` exists) and
 * leaves an empty datadir owned by mysql. What is wiped is the restore's own earlier work in
 * that fresh datadir (a partial move-back or SST); the script refuses when `aside` is not a
 * directory, so that it never wipes a datadir that was not set aside.
 */
export function setAsideScript(aside: string): string {
  const [d, a] = [q(DATADIR), q(aside)];
  return [
    "set -euo pipefail",
    `if [ ! -e ${a} ]; then`,
    `  if mountpoint -q ${d}; then echo "${DATADIR} is a mount point: it cannot be renamed aside" >&2; exit 1; fi`,
    `  if [ -e ${d} ]; then mv -T ${d} ${a}; else mkdir -m 0755 ${a}; fi`,
    "fi",
    `[ -d ${a} ] || { echo "${aside} is not a directory: the old datadir is not where the restore state says" >&2; exit 1; }`,
    `mkdir -p ${d}`,
    `find ${d} -mindepth 1 -delete`,
    `chown mysql:mysql ${d}`,
    `chmod 0755 ${d}`,
  ].join("\n");
}

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
export const GaleraInfoSchema = z.object({ uuid: Uuid, seqno: z.int().min(0) });
export type GaleraInfo = z.output<typeof GaleraInfoSchema>;

/** The backup's own Galera position (--galera-info): MariaDB 11 names the file mariadb_backup_*. */
export function galeraInfoScript(data: string): string {
  return [
    `for f in ${q(`${data}/mariadb_backup_galera_info`)} ${q(`${data}/xtrabackup_galera_info`)}; do`,
    '  if [ -f "$f" ]; then head -n 1 "$f"; exit 0; fi',
    "done",
    'echo "the backup has no galera info file (mariadb_backup_galera_info): taken without --galera-info?" >&2',
    "exit 1",
  ].join("\n");
}

/** `uuid:seqno` and, since MariaDB 10.5, a GTID domain after a space: `809ab62d-...:7 0`. */
export function parseGaleraInfo(host: string, stdout: string): GaleraInfo {
  const m = /^([0-9a-f-]{36}):(-?\d+)(\s.*)?$/.exec(stdout.trim());
  const parsed = GaleraInfoSchema.safeParse(m ? { uuid: m[1], seqno: Number(m[2]) } : undefined);
  if (!parsed.success)
    throw new HastackError(
      "E_TOOL_OUTPUT",
      `Cannot read the backup's galera info on ${host}: ${JSON.stringify(stdout.trim().slice(0, 120))} is not uuid:seqno`,
    );
  return parsed.data;
}

/** grastate.dat as Galera writes it; safe_to_bootstrap: 1 since this node alone holds the history. */
export function grastateText(info: GaleraInfo): string {
  return `# GALERA saved state\nversion: 2.1\nuuid:    ${info.uuid}\nseqno:   ${info.seqno}\nsafe_to_bootstrap: 1\n`;
}

/**
 * The prepared backup moved into the (empty) datadir by mariadb-backup itself (it knows the
 * server's file layout from my.cnf), owned by mysql, with a grastate.dat at the backup's
 * position: galera_new_cluster then starts the history where the backup left it.
 */
export function moveBackScript(spool: string, info: GaleraInfo): string {
  const log = `${spool}/move-back.log`;
  const grastate = `${DATADIR}/grastate.dat`;
  return [
    PRELUDE,
    `if [ -n "$(ls -A ${q(DATADIR)})" ]; then echo "${DATADIR} is not empty: it was not set aside" >&2; exit 1; fi`,
    `mariadb-backup --move-back --target-dir=${q(`${spool}/data`)} 2> ${q(log)} || true`,
    requireOk(log, "mariadb-backup --move-back"),
    `chown -R mysql:mysql ${q(DATADIR)}`,
    `printf '%s' ${q(grastateText(info))} > ${q(grastate)}`,
    `chown mysql:mysql ${q(grastate)}`,
    `chmod 0660 ${q(grastate)}`,
  ].join("\n");
}
