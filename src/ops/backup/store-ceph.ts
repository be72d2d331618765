/**
 * @module
 * Backups as RADOS objects in a dedicated pool, read and written as client.hastack-backup (its
 * caps: that pool only). Every command runs on a controller, which holds that user's keyring;
 * `rados` has no connect timeout of its own, so each call runs under coreutils' timeout.
 */
import { runTool } from "../../hostkit/command.ts";
import { BACKUP_CLIENT } from "../../services/ceph/layout.ts";
import { shellQuoteArg as q } from "../../transport/shell-quote.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { MANIFEST_NAME } from "./manifest.ts";
import { type BackupStore, parseStoredLines, type StoredBackup, type StoredFile } from "./store.ts";

/** Seconds per rados call: a 120 MiB part on a busy 1 GbE storage network takes a few. */
const RADOS_TIMEOUT_S = 600;

/** rados as client.hastack-backup on its pool (another pool: only for a test of its caps). */
export function radosArgv(args: readonly string[], pool: string = BACKUP_CLIENT.pool): string[] {
  return [
    "timeout",
    String(RADOS_TIMEOUT_S),
    "rados",
    "-n",
    BACKUP_CLIENT.name,
    "-k",
    BACKUP_CLIENT.keyring,
    "-p",
    pool,
    ...args,
  ];
}

/** A shell word: quoted, or taken as it is when it is a shell expression ("$f"). */
type Word = string | { raw: string };

function radosLine(args: readonly Word[]): string {
  const fixed = radosArgv([]).map(q);
  return [...fixed, ...args.map((a) => (typeof a === "string" ? q(a) : a.raw))].join(" ");
}

/** `rados stat`'s line: "<pool>/<obj> mtime <time>, size <bytes>". */
export function parseStatSize(host: string, stdout: string): number {
  const m = /size (\d+)\s*$/.exec(stdout.trim());
  if (!m)
    throw new HastackError(
      "E_TOOL_OUTPUT",
      `Cannot read rados stat's answer on ${host}: ${stdout.trim().slice(0, 120)}`,
    );
  return Number(m[1]);
}

export function cephStore(via: () => Transport): BackupStore {
  const pool = BACKUP_CLIENT.pool;
  const run = (t: Transport, what: string, argv: string[], stdin?: string) =>
    runTool(t, "E_BACKUP", what, argv, {
      timeoutMs: (RADOS_TIMEOUT_S + 30) * 1000,
      ...(stdin ? { stdin } : {}),
    });
  async function putFiles(source: Transport, dir: string, id: string, files: readonly StoredFile[]) {
    for (const p of files) {
      const obj = `${id}/${p.name}`;
      await run(source, `store ${obj} in pool ${pool}`, radosArgv(["put", obj, `${dir}/${p.name}`]));
      // RADOS checksums what it stores; what is checked here is that the whole file went in.
      const size = parseStatSize(
        source.name,
        (await run(source, `stat ${obj}`, radosArgv(["stat", obj]))).stdout,
      );
      if (size !== p.size)
        throw new HastackError(
          "E_BACKUP",
          `Cannot store ${obj} in pool ${pool} from ${source.name}: ${size} bytes stored, ${p.size} spooled`,
        );
    }
  }
  async function fetchFiles(b: StoredBackup, names: readonly string[], dir: string, what: string) {
    const t = via();
    const gets = names.map((n) => radosLine(["get", `${b.id}/${n}`, `${dir}/${n}`]));
    const script = ["set -euo pipefail", "umask 077", `mkdir -p ${q(dir)}`, ...gets].join("\n");
    await run(t, what, ["bash", "-c", script]);
    return { host: t.name, dir };
  }
  return {
    description: `Ceph pool ${pool}`,
    ref: { kind: "ceph", pool },
    putParts(source, spoolParts, id, parts) {
      return putFiles(source, spoolParts, id, parts);
    },
    putFiles,
    async putManifest(id, m) {
      const t = via();
      // Through a 0600 temp file: `rados put` reads a file, and the manifest holds no secret.
      const script = `set -euo pipefail\nf=$(mktemp)\ntrap 'rm -f "$f"' EXIT\ncat > "$f"\n${radosLine(["put", `${id}/${MANIFEST_NAME}`, { raw: '"$f"' }])}`;
      await run(
        t,
        `store ${id}/${MANIFEST_NAME} in pool ${pool}`,
        ["bash", "-c", script],
        `${JSON.stringify(m)}\n`,
      );
    },
    async list() {
      const t = via();
      const script = [
        "set -euo pipefail",
        `objs=$(${radosLine(["ls"])})`,
        "f=$(mktemp)",
        "trap 'rm -f \"$f\"' EXIT",
        'for id in $(printf "%s\\n" "$objs" | sed -n "s|^\\([0-9]\\{8\\}T[0-9]\\{6\\}Z\\)/.*|\\1|p" | sort -u); do',
        `  if printf "%s\\n" "$objs" | grep -qxF "$id/${MANIFEST_NAME}"; then`,
        `    ${radosLine(["get", { raw: `"$id/${MANIFEST_NAME}"` }, { raw: '"$f"' }])}`,
        '    printf "%s " "$id"; tr -d "\\n" < "$f"; echo',
        '  else echo "$id"; fi',
        "done",
      ].join("\n");
      const r = await run(t, `list pool ${pool}`, ["bash", "-c", script]);
      return parseStoredLines(r.stdout, `pool ${pool}`);
    },
    async fetch(b, dir) {
      const names = b.manifest.parts.map((p) => p.name);
      const got = await fetchFiles(b, names, `${dir}/parts`, `fetch backup ${b.id} from pool ${pool}`);
      return { host: got.host, partsDir: got.dir };
    },
    fetchFiles: (b, names, dir) =>
      fetchFiles(b, names, dir, `fetch ${names.join(", ")} of backup ${b.id} from pool ${pool}`),
    async remove(backups: readonly StoredBackup[]) {
      if (backups.length === 0) return;
      const t = via();
      const ids = backups.map((b) => b.id);
      // Every object under each id, parts of an incomplete run included.
      const script = [
        "set -euo pipefail",
        `${radosLine(["ls"])} | { grep -E ${q(`^(${ids.join("|")})/`)} || true; } | while read -r obj; do ${radosLine(["rm", { raw: '"$obj"' }])}; done`,
      ].join("\n");
      await run(t, `delete backups ${ids.join(", ")} from pool ${pool}`, ["bash", "-c", script]);
    },
  };
}
