/**
 * @module
 * Backups on a site without Ceph: a directory on another controller than the one that took the
 * backup (a copy kept on its own controller is lost with it). The parts travel through the
 * hastack process one at a time (at most a part's size in memory, no SSH trust between
 * controllers) and are checked by sha256 where they land.
 */
import { runTool } from "../../hostkit/command.ts";
import { shellQuoteArg as q } from "../../transport/shell-quote.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { MANIFEST_NAME } from "./manifest.ts";
import { listFilesScript, listPartsScript, parseFileListing, parsePartListing } from "./scripts.ts";
import { type BackupStore, parseStoredLines, type StoredBackup, type StoredFile } from "./store.ts";

export const BACKUP_DIR = "/var/lib/hastack/backups";

const LIST_SCRIPT = [
  `[ -d ${BACKUP_DIR} ] || exit 0`,
  `cd ${BACKUP_DIR}`,
  'for d in */; do id=$(basename "$d"); [ -d "$id" ] || continue',
  `  if [ -f "$id/${MANIFEST_NAME}" ]; then printf '%s ' "$id"; tr -d '\\n' < "$id/${MANIFEST_NAME}"; echo; else echo "$id"; fi`,
  "done",
].join("\n");

export interface ControllerStoreOptions {
  /** Where a new backup goes. */
  holder: Transport;
  /** Every reachable controller: backups of earlier runs may be on any of them. */
  controllers: readonly Transport[];
  warn: (line: string) => void;
}

export function controllerStore(o: ControllerStoreOptions): BackupStore {
  const on = (host: string) => {
    const t = o.controllers.find((c) => c.name === host);
    if (!t) throw new HastackError("E_BACKUP", `Cannot reach ${host}, which holds the backup`);
    return t;
  };
  /** Each file from `dir` on `source` to the holder through this process, one in memory at a time. */
  async function copyFiles(source: Transport, dir: string, id: string, files: readonly StoredFile[]) {
    const to = `${BACKUP_DIR}/${id}`;
    for (const p of files) {
      const read = await source.execRaw(["cat", `${dir}/${p.name}`], { timeoutMs: 600_000 });
      if (read.code !== 0)
        throw new HastackError(
          "E_BACKUP",
          `Cannot read ${dir}/${p.name} on ${source.name}: exit code ${read.code}`,
        );
      const write = `set -euo pipefail\numask 077\nmkdir -p ${q(to)}\ncat > ${q(`${to}/${p.name}.tmp`)}\nmv ${q(`${to}/${p.name}.tmp`)} ${q(`${to}/${p.name}`)}`;
      await runTool(o.holder, "E_BACKUP", `store ${id}/${p.name}`, ["bash", "-c", write], {
        stdin: read.stdout,
        timeoutMs: 600_000,
      });
    }
  }
  function checkLanded(
    source: Transport,
    id: string,
    sent: readonly StoredFile[],
    landed: readonly StoredFile[],
  ) {
    const wrong = sent.filter(
      (p) => !landed.some((l) => l.name === p.name && l.sha256 === p.sha256 && l.size === p.size),
    );
    if (wrong.length > 0 || landed.length !== sent.length)
      throw new HastackError(
        "E_BACKUP",
        `Cannot store backup ${id} on ${o.holder.name}: ${wrong.map((p) => p.name).join(", ") || "the file count"} differs from what ${source.name} spooled`,
      );
  }
  return {
    description: `${o.holder.name}:${BACKUP_DIR}`,
    ref: { kind: "controller", host: o.holder.name, dir: BACKUP_DIR },
    async putParts(source, spoolParts, id, parts) {
      await copyFiles(source, spoolParts, id, parts);
      // Every part-* there, not only those named: a stray part would be restored too.
      const listed = await runTool(o.holder, "E_BACKUP", `check ${id}'s parts`, [
        "bash",
        "-c",
        listPartsScript(`${BACKUP_DIR}/${id}`),
      ]);
      checkLanded(source, id, parts, parsePartListing(o.holder.name, listed.stdout));
    },
    async putFiles(source, dir, id, files) {
      await copyFiles(source, dir, id, files);
      const names = files.map((f) => f.name);
      const listed = await runTool(o.holder, "E_BACKUP", `check ${id}'s ${names.join(", ")}`, [
        "bash",
        "-c",
        listFilesScript(`${BACKUP_DIR}/${id}`, names),
      ]);
      checkLanded(source, id, files, parseFileListing(o.holder.name, listed.stdout));
    },
    async putManifest(id, m) {
      await o.holder.writeFile(`${BACKUP_DIR}/${id}/${MANIFEST_NAME}`, `${JSON.stringify(m)}\n`, {
        owner: "root",
        group: "root",
        mode: 0o600,
      });
    },
    async list() {
      const found: StoredBackup[] = [];
      for (const t of o.controllers) {
        const r = await t.exec(["bash", "-c", LIST_SCRIPT], { timeoutMs: 60_000 }).catch((e: Error) => e);
        if (r instanceof Error || r.code !== 0) {
          o.warn(`${t.name}: cannot list ${BACKUP_DIR}: ${r instanceof Error ? r.message : r.stderr.trim()}`);
          continue;
        }
        found.push(...parseStoredLines(r.stdout, t.name));
      }
      return found;
    },
    async fetch(b) {
      // Restored where it is: the parts are files on the holder already.
      return { host: on(b.where).name, partsDir: `${BACKUP_DIR}/${b.id}` };
    },
    async fetchFiles(b) {
      // Read where they are, as the parts are.
      return { host: on(b.where).name, dir: `${BACKUP_DIR}/${b.id}` };
    },
    async remove(backups: readonly StoredBackup[]) {
      for (const b of backups)
        await runTool(on(b.where), "E_BACKUP", `delete backup ${b.id}`, [
          "rm",
          "-rf",
          "--",
          `${BACKUP_DIR}/${b.id}`,
        ]);
    },
  };
}
