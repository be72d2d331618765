/**
 * @module
 * The part of a restore that runs before anything is stopped: the backup's parts fetched onto
 * the bootstrap controller (or found there), checked against the manifest's sizes and sha256,
 * unpacked and prepared in a spool, and its own Galera position read and matched against the
 * manifest. Any failure removes the spool and leaves the site as it was. Also the step wrapper
 * every restore step goes through: journalled, and named "Cannot restore backup <id> on
 * <host>: <step>: <cause>".
 */

import { HastackError } from "../../util/errors.ts";
import type { RecoverJournal } from "../recovery/act-journal.ts";
import type { PlannedRestore } from "./restore.ts";
import { type GaleraInfo, galeraInfoScript, parseGaleraInfo, restoreSpool } from "./restore-scripts.ts";
import { listPartsScript, parsePartListing, restoreRoom, restoreScript, roomScript } from "./scripts.ts";
import { type BackupContext, script, step } from "./site.ts";
import { compareParts } from "./verify.ts";

export type On = <T>(host: string, what: string, fn: () => Promise<T>) => Promise<T>;

/** A step named "Cannot restore backup <id> on <host>: <what>: <cause>", journalled around. */
export function journalled(journal: RecoverJournal, id: string): On {
  return async (host, what, fn) => {
    journal.write({ type: "action", host, step: what, status: "started" });
    try {
      const r = await step("E_BACKUP_RESTORE", `restore backup ${id}`, host, what, fn);
      journal.write({ type: "action", host, step: what, status: "done" });
      return r;
    } catch (error) {
      journal.write({ type: "action", host, step: what, status: "failed", error: (error as Error).message });
      throw error;
    }
  };
}

/** Parts fetched and checked, unpacked and prepared in the spool; the backup's own position read. */
export async function prepare(ctx: BackupContext, planned: PlannedRestore, on: On): Promise<GaleraInfo> {
  const { plan, backup, store } = planned;
  const m = backup.manifest;
  const host = plan.bootstrap;
  const spool = restoreSpool(plan.id);
  const t = ctx.transport(host);
  try {
    // Before anything is fetched: a spool that fills the disk half way would stop a restore late.
    const room = restoreRoom(m);
    await on(host, "check the room for the restore", () =>
      script(t, "check the room", roomScript(spool, room.bytes, room.why)),
    );
    const where = await on(host, `fetch from ${store.description}`, () => store.fetch(backup, spool));
    if (where.host !== host)
      throw new HastackError(
        "E_BACKUP_RESTORE",
        `Cannot restore backup ${plan.id} on ${host}: its parts are on ${where.host}`,
      );
    const listed = await on(host, "check the parts' sha256", async () =>
      parsePartListing(host, (await script(t, "list the parts", listPartsScript(where.partsDir))).stdout),
    );
    const parts = compareParts(m.parts, listed);
    if (!parts.ok)
      throw new HastackError(
        "E_BACKUP_RESTORE",
        `Cannot restore backup ${plan.id} on ${host}: check the parts' sha256: ${parts.detail}`,
      );
    const names = m.parts.map((p) => p.name);
    await on(host, "unpack and prepare (mbstream -x, mariadb-backup --prepare)", () =>
      script(t, "restore", restoreScript(where.partsDir, spool, names)),
    );
    const info = await on(host, "read the backup's galera info", async () =>
      parseGaleraInfo(
        host,
        (await script(t, "read the galera info", galeraInfoScript(`${spool}/data`))).stdout,
      ),
    );
    // The manifest's window around the backup's point: another history or seqno is another backup.
    if (info.uuid !== m.galera.uuid || info.seqno < m.galera.seqnoBefore || info.seqno > m.galera.seqnoAfter)
      throw new HastackError(
        "E_BACKUP_RESTORE",
        `Cannot restore backup ${plan.id} on ${host}: its galera info says ${info.uuid}:${info.seqno}, the manifest ${m.galera.uuid}:${m.galera.seqnoBefore}-${m.galera.seqnoAfter}`,
      );
    return info;
  } catch (error) {
    await removeSpool(ctx, host, plan.id);
    throw error;
  }
}

export async function removeSpool(ctx: BackupContext, host: string, id: string): Promise<void> {
  // Parts and an unpacked datadir: a spool left behind fills /var/tmp restore after restore.
  await ctx
    .transport(host)
    .exec(["rm", "-rf", "--", restoreSpool(id)], { timeoutMs: 300_000 })
    .catch(() => undefined);
}
