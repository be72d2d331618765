/**
 * @module
 * The parts of a backup beside Galera's stream: an etcd snapshot, RabbitMQ's definitions and the
 * site's keys (encrypted), each one file, recorded in the manifest's optional `extras` with its
 * size, sha256, the controller it came from and what it holds. Manifests written before these
 * parts existed have no `extras` and still read.
 */
import { z } from "zod";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** The file names in the store, beside `part-NNNN` and `manifest.json`. */
export const EXTRA_NAMES = {
  etcd: "etcd-snapshot.db",
  rabbitmq: "rabbitmq-definitions.json",
  keys: "keys.enc",
} as const;

const file = {
  size: z.int().min(0),
  sha256: Sha256,
  /** The controller it was taken on (the keys: the one whose /etc/ceph keyrings it holds). */
  host: z.string().min(1),
};

export const EtcdExtraSchema = z.strictObject({
  kind: z.literal("etcd-snapshot"),
  name: z.literal(EXTRA_NAMES.etcd),
  ...file,
  /** `etcdutl snapshot status` of the saved file: verify reads it again and compares. */
  etcd: z.strictObject({
    hash: z.int().min(0),
    revision: z.int().min(0),
    totalKey: z.int().min(0),
    version: z.string(),
  }),
});

export const RabbitmqExtraSchema = z.strictObject({
  kind: z.literal("rabbitmq-definitions"),
  name: z.literal(EXTRA_NAMES.rabbitmq),
  ...file,
  rabbitmq: z.strictObject({
    version: z.string(),
    vhosts: z.array(z.string()),
    users: z.array(z.string()),
    queues: z.int().min(0),
  }),
});

export const KeysExtraSchema = z.strictObject({
  kind: z.literal("keys"),
  name: z.literal(EXTRA_NAMES.keys),
  ...file,
  keys: z.strictObject({
    cipher: z.literal("aes-256-gcm"),
    /** The first 16 hex digits of the key's sha256: names the key file, reveals nothing of it. */
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    /** The files inside (names only): the secrets file's base name, then each keyring's path. */
    files: z.array(z.string().min(1)).min(1),
  }),
});

export const ExtraSchema = z.discriminatedUnion("kind", [
  EtcdExtraSchema,
  RabbitmqExtraSchema,
  KeysExtraSchema,
]);
export type Extra = z.output<typeof ExtraSchema>;
export type EtcdExtra = z.output<typeof EtcdExtraSchema>;
export type RabbitmqExtra = z.output<typeof RabbitmqExtraSchema>;
export type KeysExtra = z.output<typeof KeysExtraSchema>;

/** What each part is, in a word, for `backup list` and the docs. */
export const EXTRA_LABEL: Record<Extra["kind"], string> = {
  "etcd-snapshot": "etcd",
  "rabbitmq-definitions": "rabbitmq",
  keys: "keys",
};

/** At most one part of each kind: a second would say two different things. */
export function duplicateExtra(extras: readonly Extra[]): string | undefined {
  const kinds = extras.map((e) => e.kind);
  return kinds.find((k, i) => kinds.indexOf(k) !== i);
}
