/**
 * @module
 * `hastack backup verify`: the latest (or a named) backup restored into a scratch MariaDB on a
 * controller and checked against its manifest: every part's sha256, the unpacked and prepared
 * datadir starting, every database, every table's row count, the canary row; then the etcd,
 * RabbitMQ and keys parts the manifest lists (extras-verify.ts). The scratch server
 * never touches the running Galera: its own datadir, socket and pid file under one directory,
 * no networking, none of the site's configuration. It is stopped and its directory removed
 * whatever happened.
 */
import { runTool } from "../../hostkit/command.ts";
import { parseRows } from "../../hostkit/sql.ts";
import { backupSettings } from "../../services/galera/backup-settings.ts";
import type { Transport } from "../../transport/types.ts";
import { chooseVerifyHost } from "./choose-host.ts";
import {
  CANARY_DB,
  canaryReadSql,
  compareRestore,
  countSql,
  DATABASES_SQL,
  type Finding,
  parseCounts,
  parseTables,
  type Restored,
  TABLES_SQL,
} from "./content.ts";
import { verifyExtras } from "./extras-verify.ts";
import type { Manifest, Part } from "./manifest.ts";
import {
  listPartsScript,
  parsePartListing,
  restoreRoom,
  restoreScript,
  roomScript,
  scratchClientArgv,
  scratchDir,
  startScratchScript,
  stopScratchScript,
} from "./scripts.ts";
import { type BackupContext, controllerFacts, reachable, script, siteStore, step } from "./site.ts";
import { pickBackup } from "./store.ts";

export interface VerifyResult {
  id: string;
  host: string;
  ok: boolean;
  findings: Finding[];
  durationMs: number;
}

/** The stored parts against the manifest's: names, sizes and sha256, in order. */
export function compareParts(want: readonly Part[], got: readonly Part[]): Finding {
  const bad = want.filter(
    (w) => !got.some((g) => g.name === w.name && g.size === w.size && g.sha256 === w.sha256),
  );
  const extra = got.filter((g) => !want.some((w) => w.name === g.name));
  const ok = bad.length === 0 && extra.length === 0;
  const detail = ok
    ? `${want.length} part(s), sizes and sha256 as in the manifest`
    : [
        bad.length > 0 ? `differ or missing: ${bad.map((p) => p.name).join(", ")}` : "",
        extra.length > 0 ? `not in the manifest: ${extra.map((p) => p.name).join(", ")}` : "",
      ]
        .filter((s) => s !== "")
        .join("; ");
  return { ok, check: "parts", detail };
}

/** Statements against the scratch server (its own client argv; SQL on stdin). */
export async function scratchSql(t: Transport, dir: string, statements: string): Promise<string[][]> {
  const r = await runTool(t, "E_BACKUP_VERIFY", "query the scratch server", scratchClientArgv(dir), {
    stdin: `${statements.trimEnd().replace(/;$/, "")};\n`,
    timeoutMs: 600_000,
  });
  return parseRows(r.stdout);
}

/** What the scratch server holds: databases, the manifest's tables' counts, the canary's tokens. */
export async function readRestored(t: Transport, dir: string, m: Manifest): Promise<Restored> {
  const databases = (await scratchSql(t, dir, DATABASES_SQL)).map((r) => r[0] ?? "");
  const present = parseTables(t.name, await scratchSql(t, dir, TABLES_SQL));
  const has = new Set(present.map((x) => `${x.db}.${x.table}`));
  // Only tables that exist are counted: a missing one is a finding, not a failed query.
  const counts = parseCounts(
    t.name,
    await scratchSql(t, dir, countSql(m.tables.filter((x) => has.has(`${x.db}.${x.table}`)))),
  );
  const canary = has.has(`${CANARY_DB}.canary`)
    ? (await scratchSql(t, dir, canaryReadSql(m.id))).map((r) => r[0] ?? "")
    : [];
  return { databases, counts, canary };
}

export async function backupVerify(ctx: BackupContext, id?: string): Promise<VerifyResult> {
  const started = performance.now();
  const nodes = reachable(await controllerFacts(ctx));
  const via = chooseVerifyHost(nodes);
  const store = siteStore(ctx, nodes, via);
  const backup = pickBackup(await store.list(), id);
  const m = backup.manifest;
  const dir = scratchDir(m.id);
  const verb = `verify backup ${m.id}`;
  ctx.print(
    `verify ${m.id} (taken on ${m.host} at ${m.finishedAt}, ${m.parts.length} part(s)) from ${store.description}`,
  );
  const room = restoreRoom(m);
  await step("E_BACKUP_VERIFY", verb, via, "check the room for the scratch restore", () =>
    script(ctx.transport(via), "check the room", roomScript(dir, room.bytes, room.why), 60_000),
  );
  const where = await step("E_BACKUP_VERIFY", verb, via, `fetch from ${store.description}`, () =>
    store.fetch(backup, dir),
  ).catch(async (error: unknown) => {
    // A fetch cut short leaves parts behind: removed, as after a restore.
    await script(ctx.transport(via), "clean up", stopScratchScript(dir), 120_000).catch(() => undefined);
    throw error;
  });
  const t = ctx.transport(where.host);
  const on = <T>(what: string, fn: () => Promise<T>) => step("E_BACKUP_VERIFY", verb, t.name, what, fn);
  const findings: Finding[] = [];
  let failed = true;
  try {
    const listed = await on("check the parts' sha256", async () =>
      parsePartListing(t.name, (await script(t, "list the parts", listPartsScript(where.partsDir))).stdout),
    );
    findings.push(compareParts(m.parts, listed));
    if (findings.every((f) => f.ok)) {
      await on("unpack and prepare (mbstream -x, mariadb-backup --prepare)", () =>
        script(
          t,
          "restore",
          restoreScript(
            where.partsDir,
            dir,
            m.parts.map((p) => p.name),
          ),
        ),
      );
      ctx.print(`  prepared on ${t.name}; starting the scratch server`);
      await on("start the scratch server", () =>
        script(t, "start the scratch server", startScratchScript(dir), 180_000),
      );
      findings.push(...compareRestore(m, await on("read the restored data", () => readRestored(t, dir, m))));
    }
    findings.push(...(await verifyExtras(ctx, store, backup, `${dir}/extras`, backupSettings(ctx.topology))));
    failed = false;
  } finally {
    const cleanup = on("stop the scratch server and remove its directory", () =>
      script(t, "clean up", stopScratchScript(dir), 120_000),
    );
    // A failed cleanup fails the verify (a scratch server may still run); after another
    // failure it is only reported, so that the first cause stays the error.
    if (failed) await cleanup.catch((e: Error) => ctx.print(`warning: ${e.message}`));
    else await cleanup;
  }
  return {
    id: m.id,
    host: t.name,
    ok: findings.every((f) => f.ok),
    findings,
    durationMs: performance.now() - started,
  };
}
