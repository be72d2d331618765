/**
 * @module
 * Where backups live off the controller that took them: the site's Ceph (a dedicated pool,
 * written as its own cephx user) or, on a site without Ceph, a directory on another controller.
 * Both hold `<id>/part-NNNN` and `<id>/manifest.json`; a run stores the manifest last, so an id
 * without one is a run that did not complete.
 */
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import {
  BackupIdSchema,
  MANIFEST_NAME,
  type Manifest,
  type Part,
  parseManifest,
  type StoreRef,
} from "./manifest.ts";

export interface StoredBackup {
  id: string;
  /** Where it is: the Ceph pool, or the controller holding it. */
  where: string;
  /** Missing: the run did not store its manifest (failed or still running). */
  manifest?: Manifest;
}

export interface PartsOnHost {
  host: string;
  partsDir: string;
}

export interface BackupStore {
  /** "Ceph pool hastack-backups", "controllers' /var/lib/hastack/backups". */
  readonly description: string;
  /** What a manifest records of it. */
  readonly ref: StoreRef;
  /** Moves a run's spooled parts off `source` and checks what arrived (size, or sha256). */
  putParts(source: Transport, spoolParts: string, id: string, parts: readonly Part[]): Promise<void>;
  /** Single files of a backup (the extras) from `dir` on `source`, checked as the parts are. */
  putFiles(source: Transport, dir: string, id: string, files: readonly StoredFile[]): Promise<void>;
  /** Stored last: it makes the backup complete. */
  putManifest(id: string, m: Manifest): Promise<void>;
  list(): Promise<StoredBackup[]>;
  /** The parts of a backup as files on a controller, under `dir` when they must be fetched. */
  fetch(b: StoredBackup & { manifest: Manifest }, dir: string): Promise<PartsOnHost>;
  /** Named files of a backup on a controller: where they are, or fetched into `dir`. */
  fetchFiles(
    b: StoredBackup & { manifest: Manifest },
    names: readonly string[],
    dir: string,
  ): Promise<FilesOnHost>;
  remove(backups: readonly StoredBackup[]): Promise<void>;
}

/** A stored file's name, size and sha256 (a part, or an extra). */
export interface StoredFile {
  name: string;
  size: number;
  sha256: string;
}

export interface FilesOnHost {
  host: string;
  dir: string;
}

/**
 * Parses a listing script's lines: `<id> <manifest JSON on one line>` for a complete backup,
 * `<id>` alone for one without a manifest. Names that are not backup ids are not ours: skipped.
 */
export function parseStoredLines(stdout: string, where: string): StoredBackup[] {
  const out: StoredBackup[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const space = line.indexOf(" ");
    const id = space < 0 ? line.trim() : line.slice(0, space);
    if (!BackupIdSchema.safeParse(id).success) continue;
    if (space < 0) out.push({ id, where });
    else
      out.push({
        id,
        where,
        manifest: parseManifest(line.slice(space + 1), `${where} ${id}/${MANIFEST_NAME}`),
      });
  }
  for (const b of out)
    if (b.manifest && b.manifest.id !== b.id)
      throw new HastackError(
        "E_BACKUP_MANIFEST",
        `Cannot read the backup manifest ${where} ${b.id}/${MANIFEST_NAME}: it names backup ${b.manifest.id}`,
      );
  return out;
}

/** The newest complete backup, or the one named; E_BACKUP_NOT_FOUND otherwise (`verb`: what it is for). */
export function pickBackup(
  stored: readonly StoredBackup[],
  id?: string,
  verb = "verify",
): StoredBackup & { manifest: Manifest } {
  const complete = stored.filter((b): b is StoredBackup & { manifest: Manifest } => b.manifest !== undefined);
  const found = id
    ? complete.find((b) => b.id === id)
    : [...complete].sort((a, b) => b.id.localeCompare(a.id))[0];
  if (found) return found;
  const incomplete = id !== undefined && stored.some((b) => b.id === id);
  throw new HastackError(
    "E_BACKUP_NOT_FOUND",
    id === undefined
      ? `Cannot find a complete backup to ${verb}: none is stored`
      : `Cannot find backup ${id}${incomplete ? ": it has no manifest (the run that took it did not complete)" : ""}`,
    { hint: "`hastack backup list` shows the stored backups; `hastack backup run` takes one" },
  );
}
