/**
 * @module
 * `hastack backup run`: a canary row through Galera, row counts, a hot mariadb-backup on one
 * Synced controller spooled as compressed parts, the parts moved off that controller, then the
 * etcd, RabbitMQ and keys parts (extras-run.ts), the manifest stored last, then retention. The spool is removed whatever happens.
 */
import { randomBytes } from "node:crypto";
import { toolFailure } from "../../hostkit/command.ts";
import { sql } from "../../hostkit/sql.ts";
import type { BackupSettings } from "../../services/galera/backup-settings.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLines } from "../../util/text.ts";
import { chooseSource, NODE_STATE_SQL, NodeStateSchema } from "./choose-host.ts";
import {
  type Counted,
  canaryPruneSql,
  canarySql,
  countSql,
  DATABASES_SQL,
  parseCounts,
  parseTables,
  TABLES_SQL,
  tableCounts,
} from "./content.ts";
import { takeExtras } from "./extras-run.ts";
import { backupId, checkManifest, MANIFEST_FORMAT, type Manifest, type Part } from "./manifest.ts";
import { toPrune } from "./retention.ts";
import {
  backupScript,
  MARIADB_BACKUP_FAILED,
  parseBackupOutput,
  STREAM_DOES_NOT_UNPACK,
  spoolDir,
} from "./scripts.ts";
import { type BackupContext, controllerFacts, siteStore, step } from "./site.ts";

export interface RunResult {
  manifest: Manifest;
  where: string;
  pruned: string[];
  durationMs: number;
}

const MIB = 1024 * 1024;

export async function backupRun(
  ctx: BackupContext,
  settings: Pick<BackupSettings, "keep" | "part_mb" | "include" | "key_file">,
): Promise<RunResult> {
  const started = performance.now();
  const now = ctx.now ?? (() => new Date());
  const nodes = await controllerFacts(ctx);
  const source = chooseSource(nodes);
  const host = source.host;
  const t = ctx.transport(host);
  const store = siteStore(ctx, nodes, host, host);
  const startedAt = now();
  const id = backupId(startedAt);
  const token = randomBytes(16).toString("hex");
  const on = <T>(what: string, fn: () => Promise<T>) => step("E_BACKUP", "back up galera", host, what, fn);
  ctx.print(
    `backup ${id}: galera on ${host} (Synced${source.holdsVip ? ", holds the VIP" : ""}) to ${store.description}`,
  );

  await on("write the canary row", () => sql(t, canarySql(id, token, host)));
  const writtenAt = now().toISOString();
  const databases = await on("list the databases", async () =>
    (await sql(t, DATABASES_SQL)).map((r) => r[0] ?? ""),
  );
  const tables = await on("list the tables", async () => parseTables(host, await sql(t, TABLES_SQL)));
  const count = (): Promise<Counted[]> =>
    on("count the rows", async () =>
      parseCounts(host, await sql(t, countSql(tables), { timeoutMs: 600_000 })),
    );
  const before = await count();
  const galeraBefore = await galeraPosition(t);

  const spool = spoolDir(id);
  try {
    const { parts, unpacked } = await on("mariadb-backup", () =>
      takeBackup(ctx, t, spool, settings.part_mb * MIB),
    );
    const after = await count();
    const galeraAfter = await galeraPosition(t);
    const size = parts.reduce((n, p) => n + p.size, 0);
    ctx.print(
      `  ${parts.length} part(s), ${(size / MIB).toFixed(1)} MiB compressed (${(unpacked / MIB).toFixed(1)} MiB unpacked); storing`,
    );
    await on(`store the parts in ${store.description}`, () => store.putParts(t, `${spool}/parts`, id, parts));
    // Before the manifest: a backup without a part it was asked to take stays incomplete.
    const extras = await takeExtras(ctx, nodes, host, id, store, settings);
    const manifest: Manifest = checkManifest(
      {
        format: MANIFEST_FORMAT,
        id,
        kind: "galera",
        site: ctx.topology.cluster,
        host,
        startedAt: startedAt.toISOString(),
        finishedAt: now().toISOString(),
        tool: "mariadb-backup --backup --stream=mbstream --galera-info | gzip",
        galera: { uuid: galeraBefore.uuid, seqnoBefore: galeraBefore.seqno, seqnoAfter: galeraAfter.seqno },
        canary: { token, writtenAt },
        size,
        unpacked,
        parts,
        databases,
        tables: tableCounts(before, after),
        store: store.ref,
        ...(extras.length > 0 ? { extras } : {}),
      },
      `of backup ${id} (new)`,
    );
    await on("store the manifest", () => store.putManifest(id, manifest));
    const pruned = await prune(ctx, store, t, id, settings.keep);
    return { manifest, where: store.description, pruned, durationMs: performance.now() - started };
  } finally {
    // A spool left behind would fill the controller's disk run after run.
    await t.exec(["rm", "-rf", "--", spool], { timeoutMs: 120_000 }).catch(() => undefined);
  }
}

/** Attempts at a stream that unpacks, and the pause between them (a DDL run is seconds long). */
const BACKUP_ATTEMPTS = 3;
const RETRY_MS = 15_000;

/** Why an attempt is worth another, by backupScript's exit code: what is known, not more. */
const RETRIED: Record<number, string> = {
  [STREAM_DOES_NOT_UNPACK]:
    "a DDL on the system tables during the backup (mariadb-upgrade after a start does this)",
  [MARIADB_BACKUP_FAILED]: "mariadb-backup failed; a DDL during the backup is one cause",
};

/**
 * The backup script, again when its stream does not unpack or mariadb-backup itself failed:
 * both are what a DDL during the backup causes (backupScript says how; mariadb-upgrade after a
 * restart is the usual one). No room, a missing "completed OK!" or anything else is final at once.
 */
async function takeBackup(
  ctx: BackupContext,
  t: Transport,
  spool: string,
  partBytes: number,
): Promise<{ unpacked: number; parts: Part[] }> {
  for (let attempt = 1; ; attempt++) {
    const r = await t.exec(["bash", "-c", backupScript(spool, partBytes)], { timeoutMs: 3_600_000 });
    if (r.code === 0) return parseBackupOutput(t.name, r.stdout);
    const failure = toolFailure(t, "E_BACKUP", "take the backup", r);
    const why = RETRIED[r.code];
    if (why === undefined) throw failure;
    if (attempt === BACKUP_ATTEMPTS)
      throw new HastackError("E_BACKUP", `${failure.message} (${attempt} attempts)`, {
        hint: `${why}: run the backup again once nothing changes the tables, or read the source's mariadb-backup log`,
      });
    ctx.print(`  attempt ${attempt}: ${lastLines(r.stderr, 1)}; again in ${RETRY_MS / 1000} s: ${why}`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

async function galeraPosition(t: Transport): Promise<{ uuid: string; seqno: number }> {
  return step("E_BACKUP", "back up galera", t.name, "read the Galera position", async () => {
    const rows = await sql(t, NODE_STATE_SQL);
    const s = NodeStateSchema.parse(Object.fromEntries(rows.map(([k, v]) => [k, v])));
    return { uuid: s.WSREP_LOCAL_STATE_UUID, seqno: Number(s.WSREP_LAST_COMMITTED) };
  });
}

/** The keep newest and nothing older; the pruned backups' canary rows go too. */
async function prune(
  ctx: BackupContext,
  store: ReturnType<typeof siteStore>,
  t: Transport,
  id: string,
  keep: number,
): Promise<string[]> {
  const stored = await store.list();
  const ids = toPrune(
    {
      complete: stored.filter((b) => b.manifest).map((b) => b.id),
      incomplete: stored.filter((b) => !b.manifest).map((b) => b.id),
    },
    keep,
    id,
  );
  if (ids.length === 0) return [];
  await store.remove(stored.filter((b) => ids.includes(b.id)));
  await step("E_BACKUP", "back up galera", t.name, "delete pruned canary rows", () =>
    sql(t, canaryPruneSql(ids)),
  );
  ctx.print(`  retention (keep ${keep}): deleted ${ids.join(", ")}`);
  return ids;
}
