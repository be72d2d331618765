/**
 * @module
 * `services.backup` in the inventory: how many backups to keep, how big each stored part is, which
 * parts beside Galera's a backup takes, and where the key that encrypts the site's keys is.
 * Owned by the galera service (the first thing backed up); read by `hastack backup` (src/ops/backup).
 */
import { z } from "zod";
import type { Topology } from "../../topology/types.ts";

export const BackupSettings = z.strictObject({
  keep: z
    .int()
    .min(1)
    .max(1000)
    .default(7)
    .describe("backups kept: after a successful `hastack backup run` the older ones are deleted"),
  // Ceph refuses a RADOS object above osd_max_object_size (128 MiB by default): a backup is
  // stored as parts below it, each with its own sha256.
  part_mb: z
    .int()
    .min(1)
    .max(120)
    .default(64)
    .describe("size of each stored part of a backup (MiB), below Ceph's 128 MiB object limit"),
  include: z
    .array(z.enum(["etcd", "rabbitmq", "keys"]))
    .default(["etcd", "rabbitmq", "keys"])
    .describe(
      "parts taken beside Galera's: an etcd snapshot, RabbitMQ's definitions, the site's keys (secrets file and Ceph keyrings, encrypted)",
    ),
  // The key must not be stored with what it protects: it stays on the machine that runs hastack
  // (and in the operator's safe), like the secrets file.
  key_file: z
    .string()
    .min(1)
    .optional()
    .describe(
      "file holding the key that encrypts the keys part (created 0600 if missing; relative to the inventory); default <inventory>.backup-key",
    ),
  // `hastack backup schedule`: a systemd timer on the machine that runs hastack.
  on_calendar: z
    .string()
    .min(1)
    .default("*-*-* 02:30:00")
    .describe(
      "when `hastack backup schedule`'s timer runs `backup run` (systemd OnCalendar syntax, local time)",
    ),
  randomized_delay_min: z
    .int()
    .min(0)
    .max(1440)
    .default(30)
    .describe("the timer's RandomizedDelaySec in minutes: sites sharing a Ceph do not all back up at once"),
});
export type BackupSettings = z.output<typeof BackupSettings>;

export function backupSettings(topology: Topology): BackupSettings {
  // A topology built without the block (tests, older callers) gets the defaults.
  return BackupSettings.parse(topology.settings.backup ?? {});
}
