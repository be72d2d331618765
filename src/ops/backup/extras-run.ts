/**
 * @module
 * `backup run`'s parts beside Galera's: the etcd snapshot, RabbitMQ's definitions and the site's
 * keys, all taken on one controller (the Galera source when its etcd member is healthy, else
 * the first that is), spooled there in a root-only directory, stored like the Galera parts and
 * recorded in the manifest. The spool is removed whatever happens. The keys are encrypted here,
 * in this process, before they are written anywhere (keys-crypto.ts says why).
 */

import type { BackupSettings } from "../../services/galera/backup-settings.ts";
import { adminCredentials } from "../../services/rabbitmq/admin.ts";
import { rabbitmqSettings } from "../../services/rabbitmq/settings.ts";
import { shellQuoteArg as q } from "../../transport/shell-quote.ts";
import { HastackError } from "../../util/errors.ts";
import type { NodeFacts } from "./choose-host.ts";
import { etcdEndpoint, etcdRecord, etcdSnapshotScript, etcdUnfit, parseSnapshotStatus } from "./etcd-part.ts";
import { EXTRA_NAMES, type Extra, ExtraSchema } from "./extras-manifest.ts";
import { keyFilePath, loadKey } from "./keys-crypto.ts";
import { collectKeys, sealKeys } from "./keys-part.ts";
import { fetchDefinitions, requireDefinitions } from "./rabbitmq-part.ts";
import { listFilesScript, parseFileListing } from "./scripts.ts";
import { type BackupContext, script, step } from "./site.ts";
import type { BackupStore } from "./store.ts";

/** An extra before it is stored: its size and sha256 come from its spooled file. */
type Unsized<E> = E extends unknown ? Omit<E, "size" | "sha256"> : never;

/** Where the extras are spooled on their controller (removed afterwards). */
export function extrasDir(id: string): string {
  return `/var/tmp/hastack-backup-${id}-extras`;
}

/** The parts the run stores and records; none when `include` is empty. */
export async function takeExtras(
  ctx: BackupContext,
  nodes: readonly NodeFacts[],
  source: string,
  id: string,
  store: BackupStore,
  settings: Pick<BackupSettings, "include" | "key_file">,
): Promise<Extra[]> {
  const want = new Set(settings.include);
  if (want.size === 0) return [];
  const host = await extrasHost(ctx, nodes, source, want.has("etcd"));
  const t = ctx.transport(host);
  const dir = extrasDir(id);
  const on = <T>(what: string, fn: () => Promise<T>) => step("E_BACKUP", "back up", host, what, fn);
  const made: Unsized<Extra>[] = [];
  try {
    await on("make the spool", () =>
      script(t, "make the spool", `set -eu\numask 077\nrm -rf ${q(dir)}\nmkdir -p ${q(dir)}`, 30_000),
    );
    if (want.has("etcd")) {
      const endpoint = etcdEndpoint(hostIp(ctx, host));
      const status = await on("etcdctl snapshot save", async () =>
        parseSnapshotStatus(
          t,
          (await script(t, "save the etcd snapshot", etcdSnapshotScript(dir, endpoint), 660_000)).stdout,
        ),
      );
      ctx.print(`  etcd snapshot on ${host}: revision ${status.revision}, ${status.totalKey} keys`);
      made.push({ kind: "etcd-snapshot", name: EXTRA_NAMES.etcd, host, etcd: etcdRecord(status) });
    }
    if (want.has("rabbitmq")) {
      const rabbit = rabbitmqSettings(ctx.topology);
      const body = await on("export RabbitMQ's definitions", () =>
        fetchDefinitions(t, adminCredentials(ctx.topology, secretOf(ctx))),
      );
      const record = requireDefinitions(host, body, { vhost: rabbit.vhost, users: [rabbit.admin_user] });
      await t.writeFile(`${dir}/${EXTRA_NAMES.rabbitmq}`, body, {
        owner: "root",
        group: "root",
        mode: 0o600,
      });
      ctx.print(
        `  rabbitmq definitions from ${host}: ${record.vhosts.length} vhost(s), ${record.users.length} user(s), ${record.queues} queue(s)`,
      );
      made.push({ kind: "rabbitmq-definitions", name: EXTRA_NAMES.rabbitmq, host, rabbitmq: record });
    }
    if (want.has("keys")) {
      const path = keyFilePath(ctx.topology, settings);
      const { key, created } = await loadKey(path, true);
      if (created) ctx.print(`  created the backup key ${path} (0600): keep a copy apart from the backups`);
      const sealed = sealKeys(await collectKeys(ctx.topology.secretsFile, t), key, id);
      await t.writeFile(`${dir}/${EXTRA_NAMES.keys}`, sealed.blob, {
        owner: "root",
        group: "root",
        mode: 0o600,
      });
      ctx.print(`  keys encrypted (key ${sealed.keys.keyId}): ${sealed.keys.files.join(", ")}`);
      made.push({ kind: "keys", name: EXTRA_NAMES.keys, host, keys: sealed.keys });
    }
    const listed = parseFileListing(
      host,
      (
        await script(
          t,
          "list the extras",
          listFilesScript(
            dir,
            made.map((m) => m.name),
          ),
          120_000,
        )
      ).stdout,
    );
    await on(`store ${listed.map((f) => f.name).join(", ")} in ${store.description}`, () =>
      store.putFiles(t, dir, id, listed),
    );
    return made.map((m) => {
      const f = listed.find((l) => l.name === m.name);
      if (!f) throw new HastackError("E_BACKUP", `Cannot back up ${m.name} on ${host}: not in its spool`);
      return ExtraSchema.parse({ ...m, size: f.size, sha256: f.sha256 });
    });
  } finally {
    // Even encrypted, nothing of the keys stays in /var/tmp.
    await t.exec(["rm", "-rf", "--", dir], { timeoutMs: 60_000 }).catch(() => undefined);
  }
}

/** The Galera source when its etcd member is fit (or etcd is not taken), else the first fit controller. */
async function extrasHost(
  ctx: BackupContext,
  nodes: readonly NodeFacts[],
  source: string,
  etcd: boolean,
): Promise<string> {
  if (!etcd) return source;
  const order = [source, ...nodes.filter((n) => !n.unreachable && n.host !== source).map((n) => n.host)];
  const why: string[] = [];
  for (const host of order) {
    const unfit = await etcdUnfit(ctx.transport(host), etcdEndpoint(hostIp(ctx, host))).catch(
      (e: Error) => e.message,
    );
    if (unfit === undefined) return host;
    why.push(`${host}: ${unfit}`);
  }
  throw new HastackError(
    "E_BACKUP",
    `Cannot back up etcd: no controller's member is healthy (${why.join("; ")})`,
  );
}

function hostIp(ctx: BackupContext, host: string): string {
  const ip = ctx.topology.hosts.find((h) => h.name === host)?.ip;
  if (!ip)
    throw new HastackError("E_BACKUP", `Cannot back up etcd on ${host}: it has no address in the inventory`);
  return ip;
}

function secretOf(ctx: BackupContext): (name: string) => string {
  return (name) => {
    const value = ctx.secrets?.[name];
    if (value === undefined)
      throw new HastackError(
        "E_BACKUP",
        `Cannot back up RabbitMQ's definitions: the secret ${name} is not in the secrets file`,
      );
    return value;
  };
}
