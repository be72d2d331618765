/**
 * @module
 * The shell that runs on a controller for a backup and for a scratch restore, as functions of
 * paths only (no secret ever appears here: MariaDB is reached as the OS root over its socket,
 * Ceph with a keyring file). Each script is `bash -c` with pipefail, so a failure anywhere in a
 * pipe (mariadb-backup, gzip, split, mbstream) fails the script; mariadb-backup's own log is
 * also checked for its closing "completed OK!", which it prints only when everything was copied.
 */
import { z } from "zod";
import { shellQuoteArg as q } from "../../transport/shell-quote.ts";
import { HastackError } from "../../util/errors.ts";
import { type Part, PartSchema } from "./manifest.ts";
import { DATADIR } from "./restore-state.ts";

/** Where a run spools its parts before they leave the controller (removed afterwards). */
export function spoolDir(id: string): string {
  return `/var/tmp/hastack-backup-${id}`;
}

/** Where a scratch restore lives: parts, datadir, socket, logs (removed afterwards). */
export function scratchDir(id: string): string {
  return `/var/tmp/hastack-backup-verify-${id}`;
}

export const PRELUDE = "set -euo pipefail\numask 077";

/** A log's verdict: mariadb-backup ends every successful run with "completed OK!". */
export function requireOk(log: string, what: string): string {
  return `grep -q 'completed OK!' ${q(log)} || { echo "${what} did not complete:" >&2; tail -n 5 ${q(log)} >&2; exit 1; }`;
}

/** backupScript's exit code for a stream that mbstream cannot unpack (worth another attempt). */
export const STREAM_DOES_NOT_UNPACK = 4;
/** backupScript's exit code for a spool without room for the backup (no attempt made). */
export const NO_ROOM = 5;
/**
 * backupScript's exit code for mariadb-backup itself failing, which a DDL during the backup
 * also causes (a table's `#sql-*.frm-` gone between listing and copying): worth another attempt.
 */
export const MARIADB_BACKUP_FAILED = 6;

/**
 * The hot backup: mariadb-backup streams (mbstream) the running node's files, `--galera-info`
 * records the node's Galera position inside the backup (what a restored node starts from);
 * gzip -1 because single-threaded gzip is the pipe's bottleneck and InnoDB pages compress
 * nearly as well at level 1; split cuts parts of partBytes. Prints `unpacked <bytes>`, then the
 * part listing.
 *
 * The stream is also unpacked as it is written (tee into `mbstream -x`, removed after), because
 * mariadb-backup 11.8 can stream a file twice and still say "completed OK!": when a DDL touches
 * an Aria system table during the backup (mariadb-upgrade, which Debian's debian-start runs
 * after a start, rewrites mysql.table_stats and index_stats), the DDL log's re-copy and the
 * final copy of the statistics tables both write it, and `mbstream -x` then stops at
 * "File exists", exiting 0. Reproduced 9 times in 12 on the lab image; without this check such
 * a backup was stored and failed only at restore. mbstream's exit code says nothing, so its
 * stderr is the verdict. Room is checked first: the check holds an uncompressed copy, at most
 * the datadir's size, beside the compressed parts.
 */
export function backupScript(dir: string, partBytes: number): string {
  const log = `${dir}/backup.log`;
  const check = `${dir}/unpack-check`;
  const checkLog = `${dir}/unpack-check.log`;
  const fifo = `${dir}/stream`;
  return [
    PRELUDE,
    `rm -rf ${q(dir)}`,
    `mkdir -p ${q(`${dir}/parts`)} ${q(`${dir}/tmp`)} ${q(check)}`,
    // du still totals when a DDL removes a file under it (and then exits 1).
    `used=$(du -sb ${q(DATADIR)} 2> /dev/null | cut -f1 || true)`,
    ...roomCheck(dir, "$(( used * 11 / 10 ))", "the datadir's size and a tenth"),
    `mkfifo ${q(fifo)}`,
    `mbstream -x -C ${q(check)} < ${q(fifo)} 2> ${q(checkLog)} & unpack=$!`,
    "piped=1",
    `mariadb-backup --backup --user=root --galera-info --stream=mbstream --target-dir=${q(`${dir}/tmp`)} 2> ${q(log)} \\`,
    `  | tee ${q(fifo)} | gzip -1 | split -b ${partBytes} -d -a 4 - ${q(`${dir}/parts/part-`)} || piped=0`,
    'wait "$unpack" || true',
    `if [ -s ${q(checkLog)} ]; then`,
    `  echo "the stream does not unpack (mbstream -x): $(tail -n 2 ${q(checkLog)} | tr -d '\\a' | tr '\\n' ' ')" >&2; exit ${STREAM_DOES_NOT_UNPACK}`,
    "fi",
    `if [ "$piped" = 0 ]; then echo "mariadb-backup | gzip | split failed:" >&2; tail -n 5 ${q(log)} >&2; exit ${MARIADB_BACKUP_FAILED}; fi`,
    // What a restore's spool will need for the unpacked backup: recorded in the manifest.
    `echo "unpacked $(du -sb ${q(check)} | cut -f1)"`,
    `rm -rf ${q(check)} ${q(fifo)}`,
    requireOk(log, "mariadb-backup"),
    listPartsScript(`${dir}/parts`),
  ].join("\n");
}

/**
 * Fails (NO_ROOM) unless `dir`'s filesystem has `bytes` free (creating nothing), saying both in MiB and `why`
 * (plain words: it is echoed inside double quotes).
 */
export function roomScript(dir: string, bytes: number, why: string): string {
  return [PRELUDE, ...roomCheck(dir, String(Math.ceil(bytes)), why)].join("\n");
}

function roomCheck(dir: string, need: string, why: string): string[] {
  return [
    // The directory may not exist yet: its nearest existing parent is on the same filesystem.
    `d=${q(dir)}; while [ ! -e "$d" ]; do d=$(dirname "$d"); done`,
    `free=$(df -B1 --output=avail "$d" | tail -n 1 | tr -d ' ')`,
    `need=${need}`,
    `if [ "$free" -lt "$need" ]; then echo "not enough room in ${dir}: $((free / 1048576)) MiB free, $((need / 1048576)) MiB needed (${why})" >&2; exit ${NO_ROOM}; fi`,
  ];
}

/** The room a restore's spool needs, and why: the parts, then the backup unpacked and a tenth. */
export function restoreRoom(m: { size: number; unpacked?: number | undefined }): {
  bytes: number;
  why: string;
} {
  if (m.unpacked === undefined)
    return { bytes: m.size, why: "the parts; this older manifest does not record the unpacked size" };
  return { bytes: m.size + m.unpacked * 1.1, why: "the parts, and the backup unpacked and a tenth" };
}

/** Splits backupScript's output: its `unpacked <bytes>` line, and the part listing after it. */
export function parseBackupOutput(host: string, stdout: string): { unpacked: number; parts: Part[] } {
  const m = /^unpacked (\d+)\n/.exec(stdout);
  if (!m)
    throw new HastackError(
      "E_TOOL_OUTPUT",
      `Cannot read the backup script's output on ${host}: no "unpacked <bytes>" line first`,
    );
  return { unpacked: Number(m[1]), parts: parsePartListing(host, stdout.slice(m[0].length)) };
}

/** One line per part, in name order: `part-0000 <bytes> <sha256>`. */
export function listPartsScript(partsDir: string): string {
  return [
    `cd ${q(partsDir)}`,
    `for f in part-*; do [ -e "$f" ] || exit 3; printf '%s %s %s\\n' "$f" "$(stat -c %s "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"; done`,
  ].join("\n");
}

const PartLine = /^(part-\d{4,}) (\d+) ([0-9a-f]{64})$/;

/** Parses listPartsScript's output; anything else in it is an error naming the host. */
export function parsePartListing(host: string, stdout: string): Part[] {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  const parts = lines.map((line) => {
    const m = PartLine.exec(line.trim());
    if (!m)
      throw new HastackError(
        "E_TOOL_OUTPUT",
        `Cannot read the backup part listing on ${host}: unexpected line ${JSON.stringify(line.slice(0, 120))}`,
      );
    return PartSchema.parse({ name: m[1], size: Number(m[2]), sha256: m[3] });
  });
  if (parts.length === 0)
    throw new HastackError("E_TOOL_OUTPUT", `Cannot read the backup part listing on ${host}: no part`);
  return z.array(PartSchema).parse(parts);
}

/**
 * Unpacks the parts (named in the manifest's order: a missing one fails `cat`) into a fresh
 * datadir and prepares it: InnoDB's redo applied, as a server needs it to start.
 */
export function restoreScript(partsDir: string, dir: string, names: readonly string[]): string {
  const data = `${dir}/data`;
  const files = names.map((n) => q(`${partsDir}/${n}`)).join(" ");
  return [
    PRELUDE,
    `rm -rf ${q(data)}; mkdir -p ${q(data)} ${q(`${dir}/tmp`)}`,
    // mbstream exits 0 after "failed to create file": its stderr, empty when it unpacked all, decides.
    `if ! cat ${files} | gzip -dc | mbstream -x -C ${q(data)} 2> ${q(`${dir}/extract.log`)} || [ -s ${q(`${dir}/extract.log`)} ]; then`,
    `  echo "cat | gzip -dc | mbstream -x failed:" >&2; tail -n 3 ${q(`${dir}/extract.log`)} >&2; exit 1`,
    "fi",
    `mariadb-backup --prepare --target-dir=${q(data)} 2> ${q(`${dir}/prepare.log`)} || true`,
    requireOk(`${dir}/prepare.log`, "mariadb-backup --prepare"),
  ].join("\n");
}

/** Files of the scratch server, all under its own directory. */
export function scratchPaths(dir: string) {
  return {
    data: `${dir}/data`,
    socket: `${dir}/mysqld.sock`,
    pid: `${dir}/mysqld.pid`,
    log: `${dir}/error.log`,
  };
}

/**
 * Starts a throwaway mariadbd on the prepared datadir: `--no-defaults` so that nothing of the
 * site's my.cnf applies (no wsrep provider, no bind address, not the site's datadir or socket),
 * no networking at all, its own socket and pid file, grant tables skipped (the socket is in a
 * root-only directory: only root reaches it), a small buffer pool beside the running Galera.
 * It runs detached (setsid, every descriptor closed) and is waited for until it answers.
 */
export function startScratchScript(dir: string): string {
  const p = scratchPaths(dir);
  return [
    PRELUDE,
    `chown -R mysql:mysql ${q(dir)}`,
    `setsid mariadbd --no-defaults --user=mysql --datadir=${q(p.data)} --socket=${q(p.socket)} --pid-file=${q(p.pid)} \\`,
    `  --skip-networking --skip-grant-tables --skip-log-bin --innodb-buffer-pool-size=128M --tmpdir=${q(`${dir}/tmp`)} \\`,
    `  --log-error=${q(p.log)} < /dev/null > /dev/null 2>&1 &`,
    `for i in $(seq 1 240); do mariadb-admin --no-defaults --socket=${q(p.socket)} ping > /dev/null 2>&1 && exit 0; sleep 0.5; done`,
    `echo "the scratch mariadbd did not answer within 120 s:" >&2; tail -n 5 ${q(p.log)} >&2; exit 1`,
  ].join("\n");
}

/** The client of the scratch server (statements go on stdin). */
export function scratchClientArgv(dir: string): string[] {
  return ["mariadb", "--no-defaults", `--socket=${scratchPaths(dir).socket}`, "-N", "-B"];
}

/**
 * Stops the scratch server (a clean shutdown, SIGKILL after 60 s) and removes its directory.
 * Safe to run when nothing was started or the directory is gone.
 */
export function stopScratchScript(dir: string): string {
  const p = scratchPaths(dir);
  // The pid is read before the shutdown (a clean stop removes the file), and killed only while
  // it is still this scratch server (its command line names this datadir): never a reused pid.
  const ours = `tr '\\0' '\\n' 2> /dev/null < /proc/$pid/cmdline | grep -qxF -- ${q(`--datadir=${p.data}`)}`;
  return [
    "set -u",
    `pid=$(cat ${q(p.pid)} 2> /dev/null || true)`,
    `if [ -S ${q(p.socket)} ]; then mariadb-admin --no-defaults --socket=${q(p.socket)} shutdown > /dev/null 2>&1 || true; fi`,
    `if [ -n "$pid" ]; then`,
    `  for i in $(seq 1 120); do ${ours} || break; sleep 0.5; done`,
    `  if ${ours}; then kill -9 "$pid"; fi`,
    "fi",
    `rm -rf ${q(dir)}`,
  ].join("\n");
}

/** One line per named file of `dir`, in the order given: `<name> <bytes> <sha256>`; a missing one exits 3. */
export function listFilesScript(dir: string, names: readonly string[]): string {
  return [
    `cd ${q(dir)}`,
    `for f in ${names.map(q).join(" ")}; do [ -f "$f" ] || { echo "$f is missing in ${dir}" >&2; exit 3; }; printf '%s %s %s\\n' "$f" "$(stat -c %s "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"; done`,
  ].join("\n");
}

/** Parses listFilesScript's output into name, size and sha256 (names as asked: no pattern). */
export function parseFileListing(
  host: string,
  stdout: string,
): { name: string; size: number; sha256: string }[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const m = /^(\S+) (\d+) ([0-9a-f]{64})$/.exec(line.trim());
      if (!m)
        throw new HastackError(
          "E_TOOL_OUTPUT",
          `Cannot read the file listing on ${host}: unexpected line ${JSON.stringify(line.slice(0, 120))}`,
        );
      return { name: m[1] as string, size: Number(m[2]), sha256: m[3] as string };
    });
}
