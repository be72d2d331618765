/**
 * @module
 * `backup verify`'s checks of the parts beside Galera's: each file's size and sha256 against the
 * manifest, then what it is: the etcd snapshot's `etcdutl snapshot status` (hash, revision, key
 * count as recorded), RabbitMQ's definitions parsed (the site's vhost and administrator, the
 * recorded vhosts, users and queue count), the keys decrypted with the backup key file and
 * parsed (a wrong key fails here). A manifest without extras (a Galera-only backup) adds nothing.
 */
import { runTool } from "../../hostkit/command.ts";
import type { BackupSettings } from "../../services/galera/backup-settings.ts";
import { rabbitmqSettings } from "../../services/rabbitmq/settings.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { Finding } from "./content.ts";
import { compareSnapshot, etcdStatusArgv, parseSnapshotStatus } from "./etcd-part.ts";
import type { Extra } from "./extras-manifest.ts";
import { keyFilePath, loadKey } from "./keys-crypto.ts";
import { checkKeys, openKeys } from "./keys-part.ts";
import type { Manifest } from "./manifest.ts";
import { checkDefinitions } from "./rabbitmq-part.ts";
import { listFilesScript, parseFileListing } from "./scripts.ts";
import { type BackupContext, script } from "./site.ts";
import type { BackupStore, StoredBackup } from "./store.ts";

/** One finding per extra; the files are fetched under `dir` (the scratch directory) when they must be. */
export async function verifyExtras(
  ctx: BackupContext,
  store: BackupStore,
  backup: StoredBackup & { manifest: Manifest },
  dir: string,
  settings: Pick<BackupSettings, "key_file">,
): Promise<Finding[]> {
  const extras = backup.manifest.extras ?? [];
  if (extras.length === 0) return [];
  const names = extras.map((e) => e.name);
  // A part missing from the store is a failed check of that backup, as a differing one is.
  const fetched = await store
    .fetchFiles(backup, names, dir)
    .then(async (at) => {
      const t = ctx.transport(at.host);
      const out = await script(t, "list the extras", listFilesScript(at.dir, names));
      return { at, t, listed: parseFileListing(t.name, out.stdout) };
    })
    .catch((error: Error) => error);
  if (fetched instanceof Error)
    return extras.map((e) => ({ ok: false, check: label(e), detail: fetched.message }));
  const { at, t, listed } = fetched;
  const findings: Finding[] = [];
  for (const e of extras) {
    const got = listed.find((l) => l.name === e.name);
    if (got?.size !== e.size || got.sha256 !== e.sha256) {
      findings.push({
        ok: false,
        check: label(e),
        detail: `${e.name}: size or sha256 differs from the manifest`,
      });
      continue;
    }
    findings.push(await checkOne(ctx, t, `${at.dir}/${e.name}`, e, backup.manifest.id, settings));
  }
  return findings;
}

const CHECK: Record<Extra["kind"], string> = {
  "etcd-snapshot": "etcd snapshot",
  "rabbitmq-definitions": "rabbitmq definitions",
  keys: "keys",
};

function label(e: Extra): string {
  return CHECK[e.kind];
}

/** The file's content checked; a failure of the check itself is the finding, not a thrown error. */
async function checkOne(
  ctx: BackupContext,
  t: Transport,
  path: string,
  e: Extra,
  id: string,
  settings: Pick<BackupSettings, "key_file">,
): Promise<Finding> {
  try {
    switch (e.kind) {
      case "etcd-snapshot": {
        const r = await runTool(
          t,
          "E_BACKUP_VERIFY",
          "read the etcd snapshot's status",
          etcdStatusArgv(path),
        );
        return compareSnapshot(e, parseSnapshotStatus(t, r.stdout));
      }
      case "rabbitmq-definitions": {
        const rabbit = rabbitmqSettings(ctx.topology);
        const text = (await readStored(t, path)).toString("utf8");
        return checkDefinitions(text, e, { vhost: rabbit.vhost, users: [rabbit.admin_user] });
      }
      case "keys": {
        const { key } = await loadKey(keyFilePath(ctx.topology, settings), false);
        return checkKeys(openKeys(await readStored(t, path), key, id), e);
      }
    }
  } catch (error) {
    return { ok: false, check: label(e), detail: error instanceof Error ? error.message : String(error) };
  }
}

async function readStored(t: Transport, path: string): Promise<Buffer> {
  const data = await t.readFile(path);
  if (data === undefined)
    throw new HastackError("E_BACKUP_VERIFY", `Cannot read ${path} on ${t.name}: it is gone`);
  return data;
}
