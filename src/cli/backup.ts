import { userInfo } from "node:os";
import { resolve } from "node:path";
import type { Command } from "commander";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { keyFilePath } from "../ops/backup/keys-crypto.ts";
import { decryptKeysFile } from "../ops/backup/keys-decrypt.ts";
import { backupList, listText } from "../ops/backup/list.ts";
import type { Manifest } from "../ops/backup/manifest.ts";
import { backupRestore } from "../ops/backup/restore.ts";
import { type RestorePlan, restorePlanText } from "../ops/backup/restore-plan.ts";
import { backupRun } from "../ops/backup/run.ts";
import { installSchedule, scheduleFiles, scheduleSpec } from "../ops/backup/schedule.ts";
import type { BackupContext } from "../ops/backup/site.ts";
import { backupVerify, type VerifyResult } from "../ops/backup/verify.ts";
import { recoverJournal } from "../ops/recovery/act-journal.ts";
import { backupSettings } from "../services/galera/backup-settings.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { LocalTransport } from "../transport/local-transport.ts";
import { sshPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";
import { reportError } from "./run.ts";

interface BackupOptions {
  inventory: string;
  json?: boolean;
}

interface RestoreOptions extends BackupOptions {
  dryRun?: boolean;
  yes?: boolean;
}

const RESTORE_HELP = `
Exit codes:
  0  restored (the canary row read on every controller), or --dry-run: the plan printed
  1  failed: a step failed; the error names the controller, the step, the cause and the state
     left (also in /var/lib/hastack/restore-state.json on each controller); run it again to
     resume. Or no such backup
  3  refused, nothing changed: --yes not given, a controller unreachable, a datadir that is a
     mount point, or another backup's restore unfinished

Before any MariaDB is stopped, the backup's parts are fetched and checked against the
manifest's sha256, unpacked and prepared. Old datadirs are moved aside, never deleted:
/var/lib/mysql.before-restore-<id> on each controller (docs/backup.md).
`;

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

/** ", with etcd-snapshot.db, ..." when the backup has parts beside Galera's. */
function extrasText(m: Manifest): string {
  const names = (m.extras ?? []).map((e) => e.name);
  return names.length > 0 ? `, with ${names.join(", ")}` : "";
}

function verifyText(r: VerifyResult): string {
  const lines = r.findings.map((f) => `  ${f.ok ? "ok    " : "FAILED"} ${f.check}: ${f.detail}`);
  const verdict = r.ok ? "passed" : "FAILED";
  return `${lines.join("\n")}\nbackup ${r.id} verify ${verdict} on ${r.host} in ${(r.durationMs / 1000).toFixed(1)} s\n`;
}

export function registerBackup(program: Command): void {
  const backup = program
    .command("backup")
    .description(
      "hot backups of the site's Galera, etcd, RabbitMQ definitions and keys (encrypted) off the controllers, checked restores of them, and a restore of Galera into the site",
    );
  backup
    .command("run")
    .description(
      "write a canary row, take a hot mariadb-backup on a Synced controller (not a donor, the VIP's holder last), an etcd snapshot, RabbitMQ's definitions and the site's keys encrypted with the backup key file (services.backup.include, key_file), store them in Ceph (pool hastack-backups) or on another controller, keep services.backup.keep",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (opts: BackupOptions) => {
      const result = await withSite(opts, async (ctx) => {
        const settings = backupSettings(ctx.topology);
        // RabbitMQ's administrator asks for the definitions; nothing else is read from the file here.
        const secrets = settings.include.includes("rabbitmq")
          ? await readSecrets(ctx.topology.secretsFile)
          : {};
        return backupRun({ ...ctx, secrets }, settings);
      });
      if (opts.json) printJson(result);
      else
        process.stdout.write(
          `backup ${result.manifest.id} stored in ${result.where}: ${result.manifest.parts.length} part(s), ${(result.manifest.size / 1024 / 1024).toFixed(1)} MiB, seqno ${result.manifest.galera.seqnoAfter}${extrasText(result.manifest)}, ${(result.durationMs / 1000).toFixed(1)} s\n`,
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
      "restore a backup into a scratch MariaDB on a controller (own datadir and socket, no networking) and check its parts' sha256, databases, row counts and canary row; the etcd snapshot's status, the RabbitMQ definitions and the keys (decrypted with the backup key file); exit 1 when anything fails",
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
    .command("schedule")
    .description(
      "install a systemd timer on this machine that runs `hastack backup run` at services.backup.on_calendar (Persistent, randomized delay); --print shows the units instead",
    )
    .addOption(inventoryOption())
    .option("--print", "print the service and timer units, install nothing")
    .action(async (opts: { inventory: string; print?: boolean }) => {
      const topology = await loadTopology(inventoryPath(opts), services);
      const hastack = resolve(import.meta.dirname, "../../bin/hastack");
      const spec = scheduleSpec(topology, backupSettings(topology), hastack, userInfo().username);
      if (opts.print) {
        for (const f of scheduleFiles(spec)) process.stdout.write(`# ${f.path}\n${f.content}\n`);
        return;
      }
      const done = await installSchedule(new LocalTransport(), spec);
      process.stdout.write(`${done.timer} enabled; next run ${done.next || "not planned"}\n`);
    });
  backup
    .command("decrypt-keys")
    .argument("<file>", "a backup's keys.enc, copied off the store (docs/backup.md says how)")
    .requiredOption(
      "--id <id>",
      "the backup's id (bound into the encryption: another backup's part is refused)",
    )
    .requiredOption("--out <dir>", "a new or empty directory: the files are written there, 0600")
    .option("--key-file <path>", "the backup key file; default: services.backup.key_file of the inventory")
    .description(
      "decrypt a backup's keys part with the backup key file: the secrets file and Ceph's keyrings into --out (nothing of them is printed)",
    )
    .addOption(inventoryOption())
    .action(async (file: string, opts: { id: string; out: string; keyFile?: string; inventory: string }) => {
      const keyFile = opts.keyFile
        ? resolve(opts.keyFile)
        : await loadTopology(inventoryPath(opts), services).then((t) => keyFilePath(t, backupSettings(t)));
      const result = await decryptKeysFile(resolve(file), opts.id, keyFile, resolve(opts.out));
      for (const f of result.files) process.stdout.write(`${f.from} -> ${f.to}\n`);
    });
  backup
    .command("restore")
    .argument(
      "[id]",
      "a backup id from `backup list`; default: the newest complete one (or the one a cut-short restore was restoring)",
    )
    .description(
      "restore a backup into the site's Galera: checked and prepared first, then every controller's MariaDB stopped and its datadir set aside (kept), the backup bootstrapped on one controller, the others joined by SST, the canary row read back on each; every write after the backup is lost",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--dry-run", "print the plan, change nothing")
    .option("-y, --yes", "carry the plan out (without it the plan is printed and nothing changes)")
    .addHelpText("after", RESTORE_HELP)
    .action(async (id: string | undefined, opts: RestoreOptions) => {
      const file = inventoryPath(opts);
      const journal = recoverJournal(file, new Date(), "restore-");
      let plan: RestorePlan | undefined;
      const show = (p: RestorePlan) => {
        plan = p;
        // Under --json stdout carries one document: the plan, or the plan with the result.
        if (!opts.json) process.stdout.write(restorePlanText(p));
        else if (opts.dryRun || !opts.yes) printJson({ plan: p });
        else process.stderr.write(restorePlanText(p));
      };
      const result = await withSite(opts, (ctx) =>
        backupRestore(ctx, {
          ...(id ? { id } : {}),
          dryRun: opts.dryRun === true,
          yes: opts.yes === true,
          show,
          journal,
        }),
      ).catch((error: unknown) => {
        // Steps were taken: the journal says which (the error says the state left).
        if (plan && opts.yes && !opts.dryRun) process.stderr.write(`journal: ${journal.path}\n`);
        return refused(error);
      });
      if (result === undefined) return;
      if (opts.json) printJson({ plan, result });
      else
        process.stdout.write(
          `backup ${result.id} restored: ${result.bootstrap} bootstrapped${result.position ? ` at seqno ${result.position.seqno}` : ""}, ${result.joined.join(", ") || "no other controller"} joined by SST, canary row found on every controller, ${(result.durationMs / 1000).toFixed(1)} s; old datadirs kept: ${Object.entries(
            result.aside,
          )
            .map(([h, d]) => `${h}:${d}`)
            .join(", ")}\n`,
        );
    });
}

/** A refusal (nothing was changed): reported here with exit code 3; anything else goes on up. */
function refused(error: unknown): undefined {
  const codes = ["E_BACKUP_RESTORE_REFUSED", "E_BACKUP_RESTORE_CONFIRM"];
  if (!(error instanceof HastackError) || !codes.includes(error.code)) throw error;
  reportError(error);
  process.exitCode = 3;
  return undefined;
}
