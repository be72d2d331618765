import type { Command } from "commander";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { backupList, listText } from "../ops/backup/list.ts";
import { backupRun } from "../ops/backup/run.ts";
import type { BackupContext } from "../ops/backup/site.ts";
import { backupVerify, type VerifyResult } from "../ops/backup/verify.ts";
import { backupSettings } from "../services/galera/backup-settings.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface BackupOptions {
  inventory: string;
  json?: boolean;
}

/** Loads the site, opens SSH, runs `fn`, closes SSH. Progress goes to stderr under --json. */
async function withSite<T>(opts: BackupOptions, fn: (ctx: BackupContext) => Promise<T>): Promise<T> {
  const file = inventoryPath(opts);
  await enterLabNamespaceIfNeeded(file);
  const topology = await loadTopology(file, services);
  const pool = sshPool(topology);
  const out = opts.json ? process.stderr : process.stdout;
  try {
    return await fn({ topology, transport: pool.get, print: (line) => out.write(`${line}\n`) });
  } finally {
    await pool.closeAll();
  }
}

function verifyText(r: VerifyResult): string {
  const lines = r.findings.map((f) => `  ${f.ok ? "ok    " : "FAILED"} ${f.check}: ${f.detail}`);
  const verdict = r.ok ? "passed" : "FAILED";
  return `${lines.join("\n")}\nbackup ${r.id} verify ${verdict} on ${r.host} in ${(r.durationMs / 1000).toFixed(1)} s\n`;
}

export function registerBackup(program: Command): void {
  const backup = program
    .command("backup")
    .description("hot backups of the site's Galera off the controllers, and a restore that is checked");
  backup
    .command("run")
    .description(
      "write a canary row, take a hot mariadb-backup on a Synced controller (not a donor, the VIP's holder last), store it compressed in Ceph (pool hastack-backups) or on another controller, keep services.backup.keep",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (opts: BackupOptions) => {
      const result = await withSite(opts, (ctx) => backupRun(ctx, backupSettings(ctx.topology)));
      if (opts.json) printJson(result);
      else
        process.stdout.write(
          `backup ${result.manifest.id} stored in ${result.where}: ${result.manifest.parts.length} part(s), ${(result.manifest.size / 1024 / 1024).toFixed(1)} MiB, seqno ${result.manifest.galera.seqnoAfter}, ${(result.durationMs / 1000).toFixed(1)} s\n`,
        );
    });
  backup
    .command("list")
    .description("the stored backups, newest first: time, source host, size, parts")
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (opts: BackupOptions) => {
      const rows = await withSite(opts, backupList);
      if (opts.json) printJson(rows);
      else process.stdout.write(listText(rows));
    });
  backup
    .command("verify")
    .argument("[id]", "a backup id from `backup list`; default: the newest complete one")
    .description(
      "restore a backup into a scratch MariaDB on a controller (own datadir and socket, no networking) and check its parts' sha256, databases, row counts and canary row; exit 1 when anything fails",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (id: string | undefined, opts: BackupOptions) => {
      const result = await withSite(opts, (ctx) => backupVerify(ctx, id));
      if (opts.json) printJson(result);
      else process.stdout.write(verifyText(result));
      process.exitCode = result.ok ? 0 : 1;
    });
  backup
    .command("restore")
    .argument("[id]", "a backup id")
    .description("not implemented yet: restore a backup into the site's Galera")
    .addOption(inventoryOption())
    .action(() => {
      throw new HastackError(
        "E_NOT_IMPLEMENTED",
        "Cannot restore a backup: `hastack backup restore` is not implemented yet",
        {
          hint: "`hastack backup verify` restores into a scratch server and checks it; a restore into the site's Galera is not built yet (docs/backup.md)",
        },
      );
    });
}
