/**
 * @module
 * `hastack backup list`: the stored backups, newest first, complete or not, with the parts each
 * holds (galera, etcd, rabbitmq, keys), as text or JSON.
 */

import { chooseVerifyHost } from "./choose-host.ts";
import { EXTRA_LABEL } from "./extras-manifest.ts";
import { type BackupContext, controllerFacts, reachable, siteStore } from "./site.ts";
import type { StoredBackup } from "./store.ts";

export interface ListedBackup {
  id: string;
  complete: boolean;
  where: string;
  time?: string;
  host?: string;
  size?: number;
  parts?: number;
  seqno?: number;
  /** What the backup holds: galera, then etcd, rabbitmq and keys when it has those parts. */
  contains?: string[];
}

export async function backupList(ctx: BackupContext): Promise<ListedBackup[]> {
  const nodes = reachable(await controllerFacts(ctx));
  const store = siteStore(ctx, nodes, chooseVerifyHost(nodes));
  return listed(await store.list());
}

export function listed(stored: readonly StoredBackup[]): ListedBackup[] {
  return [...stored]
    .sort((a, b) => b.id.localeCompare(a.id))
    .map((b) =>
      b.manifest
        ? {
            id: b.id,
            complete: true,
            where: b.where,
            time: b.manifest.finishedAt,
            host: b.manifest.host,
            size: b.manifest.size,
            parts: b.manifest.parts.length,
            seqno: b.manifest.galera.seqnoAfter,
            contains: ["galera", ...(b.manifest.extras ?? []).map((e) => EXTRA_LABEL[e.kind])],
          }
        : { id: b.id, complete: false, where: b.where },
    );
}

export function listText(rows: readonly ListedBackup[]): string {
  if (rows.length === 0) return "no backup stored\n";
  const lines = rows.map((r) =>
    r.complete
      ? `${r.id}  ${r.time}  ${r.host}  ${((r.size ?? 0) / 1024 / 1024).toFixed(1)} MiB  ${r.parts} part(s)  seqno ${r.seqno}  ${r.contains?.join("+")}  ${r.where}`
      : `${r.id}  incomplete (no manifest: the run failed or is running)  ${r.where}`,
  );
  return `${lines.join("\n")}\n`;
}
