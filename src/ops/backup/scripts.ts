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

/**
 * The hot backup: mariadb-backup streams (mbstream) the running node's files, `--galera-info`
 * records the node's Galera position inside the backup (what a restored node starts from);
 * gzip -1 because single-threaded gzip is the pipe's bottleneck and InnoDB pages compress
 * nearly as well at level 1; split cuts parts of partBytes. Prints the part listing.
 */
export function backupScript(dir: string, partBytes: number): string {
  const log = `${dir}/backup.log`;
  return [
    PRELUDE,
    `rm -rf ${q(dir)}`,
    `mkdir -p ${q(`${dir}/parts`)} ${q(`${dir}/tmp`)}`,
    `if ! mariadb-backup --backup --user=root --galera-info --stream=mbstream --target-dir=${q(`${dir}/tmp`)} 2> ${q(log)} \\`,
    `  | gzip -1 | split -b ${partBytes} -d -a 4 - ${q(`${dir}/parts/part-`)}; then`,
    `  echo "mariadb-backup | gzip | split failed:" >&2; tail -n 5 ${q(log)} >&2; exit 1`,
    "fi",
    requireOk(log, "mariadb-backup"),
    listPartsScript(`${dir}/parts`),
  ].join("\n");
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
    `if ! cat ${files} | gzip -dc | mbstream -x -C ${q(data)} 2> ${q(`${dir}/extract.log`)}; then`,
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
