/**
 * @module
 * A backup's manifest: the JSON object stored beside its parts, saying what was taken where and
 * when, the Galera position, every part's size and sha256, the canary row and the row counts of
 * every table. It is written by `backup run` and read back (through zod) by `list` and `verify`:
 * a manifest that does not parse is an error naming where it came from, never a guess.
 */
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";
import { duplicateExtra, ExtraSchema } from "./extras-manifest.ts";

export const MANIFEST_FORMAT = 1;
export const MANIFEST_NAME = "manifest.json";

/** `20261204T151230Z`: UTC to the second, so that ids sort as their times do. */
const ID = /^\d{8}T\d{6}Z$/;
export const BackupIdSchema = z.string().regex(ID, "a backup id looks like 20261204T151230Z");

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const PartSchema = z.strictObject({
  name: z.string().regex(/^part-\d{4,}$/),
  size: z.int().min(0),
  sha256: Sha256,
});
export type Part = z.output<typeof PartSchema>;

/** One table's rows, counted in a consistent snapshot just before and just after the backup. */
export const TableCountSchema = z.strictObject({
  db: z.string().min(1),
  table: z.string().min(1),
  before: z.int().min(0),
  after: z.int().min(0),
});
export type TableCount = z.output<typeof TableCountSchema>;

export const StoreRefSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("ceph"), pool: z.string().min(1) }),
  z.strictObject({ kind: z.literal("controller"), host: z.string().min(1), dir: z.string().startsWith("/") }),
]);
export type StoreRef = z.output<typeof StoreRefSchema>;

export const ManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  id: BackupIdSchema,
  kind: z.literal("galera"),
  site: z.string().min(1),
  host: z.string().min(1),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  tool: z.literal("mariadb-backup --backup --stream=mbstream --galera-info | gzip"),
  galera: z.strictObject({
    uuid: z.string().min(1),
    seqnoBefore: z.int(),
    seqnoAfter: z.int(),
  }),
  canary: z.strictObject({ token: z.string().regex(/^[0-9a-f]{32}$/), writtenAt: z.iso.datetime() }),
  size: z.int().min(0),
  /** The backup unpacked (bytes), what a restore's spool needs; absent in older manifests. */
  unpacked: z.int().min(0).optional(),
  parts: z.array(PartSchema).min(1),
  databases: z.array(z.string().min(1)).min(1),
  tables: z.array(TableCountSchema),
  store: StoreRefSchema,
  /** etcd, RabbitMQ and keys parts (extras-manifest.ts); absent in manifests of Galera-only backups. */
  extras: z.array(ExtraSchema).optional(),
});
export type Manifest = z.output<typeof ManifestSchema>;

export function backupId(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/** The time an id names (ids are made by backupId). */
export function idTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(id);
  if (!m)
    throw new HastackError("E_BACKUP_MANIFEST", `Cannot read backup id ${id}: not like 20261204T151230Z`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

export function partName(index: number): string {
  return `part-${String(index).padStart(4, "0")}`;
}

/** Parses a stored manifest; `where` names the object or file it was read from. */
export function parseManifest(text: string, where: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HastackError("E_BACKUP_MANIFEST", `Cannot read the backup manifest ${where}: not JSON`);
  }
  return checkManifest(data, where);
}

/** The manifest's schema and consistency, on data (a new manifest is checked before it is stored). */
export function checkManifest(data: unknown, where: string): Manifest {
  const result = ManifestSchema.safeParse(data);
  if (result.success) return checkConsistent(result.data, where);
  const issues = result.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`)
    .join("; ");
  throw new HastackError("E_BACKUP_MANIFEST", `Cannot read the backup manifest ${where}: ${issues}`);
}

/** What a schema cannot say: parts numbered 0..n-1 in order, a size that is their sum, one extra of a kind. */
function checkConsistent(m: Manifest, where: string): Manifest {
  const bad = m.parts.findIndex((p, i) => p.name !== partName(i));
  if (bad >= 0)
    throw new HastackError(
      "E_BACKUP_MANIFEST",
      `Cannot read the backup manifest ${where}: part ${bad} is named ${m.parts[bad]?.name}, not ${partName(bad)}`,
    );
  const sum = m.parts.reduce((n, p) => n + p.size, 0);
  if (sum !== m.size)
    throw new HastackError(
      "E_BACKUP_MANIFEST",
      `Cannot read the backup manifest ${where}: size ${m.size} is not the sum of its parts (${sum})`,
    );
  const twice = duplicateExtra(m.extras ?? []);
  if (twice)
    throw new HastackError(
      "E_BACKUP_MANIFEST",
      `Cannot read the backup manifest ${where}: two ${twice} parts`,
    );
  return m;
}
