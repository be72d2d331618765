import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { Extra } from "./extras-manifest.ts";
import { MANIFEST_FORMAT, type Manifest } from "./manifest.ts";
import type { BackupContext } from "./site.ts";

/** A valid manifest for unit tests; `over` replaces fields. */
export function sampleManifest(over: Partial<Manifest> = {}): Manifest {
  return {
    format: MANIFEST_FORMAT,
    id: "20261204T151230Z",
    kind: "galera",
    site: "lab",
    host: "ctl3",
    startedAt: "2026-12-04T15:12:30.000Z",
    finishedAt: "2026-12-04T15:12:41.500Z",
    tool: "mariadb-backup --backup --stream=mbstream --galera-info | gzip",
    galera: { uuid: "a32b03fe-eff4-11f1-94d6-9f8e728bf936", seqnoBefore: 8391, seqnoAfter: 8394 },
    canary: { token: "0123456789abcdef0123456789abcdef", writtenAt: "2026-12-04T15:12:30.100Z" },
    size: 300,
    parts: [
      { name: "part-0000", size: 200, sha256: "a".repeat(64) },
      { name: "part-0001", size: 100, sha256: "b".repeat(64) },
    ],
    databases: ["hastack_backup", "keystone", "nova"],
    tables: [
      { db: "hastack_backup", table: "canary", before: 1, after: 1 },
      { db: "keystone", table: "project", before: 4, after: 4 },
      { db: "nova", table: "instance_actions", before: 10, after: 12 },
    ],
    store: { kind: "ceph", pool: "hastack-backups" },
    ...over,
  };
}

/** The three extras as `backup run` records them, for unit tests. */
export function sampleExtras(): Extra[] {
  const file = { size: 20480, sha256: "c".repeat(64), host: "ctl3" };
  return [
    {
      kind: "etcd-snapshot",
      name: "etcd-snapshot.db",
      ...file,
      etcd: { hash: 3476113131, revision: 42, totalKey: 9, version: "3.5.0" },
    },
    {
      kind: "rabbitmq-definitions",
      name: "rabbitmq-definitions.json",
      ...file,
      rabbitmq: { version: "4.0.5", vhosts: ["/", "/openstack"], users: ["hastack", "openstack"], queues: 1 },
    },
    {
      kind: "keys",
      name: "keys.enc",
      ...file,
      keys: {
        cipher: "aes-256-gcm",
        keyId: "0123456789abcdef",
        files: ["site.secrets.yaml", "/etc/ceph/ceph.client.admin.keyring"],
      },
    },
  ];
}

/**
 * A one-node Galera cluster from the site's galera.cnf, started by hand (a runInImage
 * container has no systemd) and waited for until it answers and is Synced.
 */
export const ONE_NODE_GALERA = [
  "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld",
  "mariadbd --user=mysql --wsrep-new-cluster > /tmp/galera.log 2>&1 &",
  "for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done",
  `for i in $(seq 1 120); do [ "$(mariadb -N -B -e "SHOW STATUS LIKE 'wsrep_local_state'" | cut -f2)" = 4 ] && break; sleep 0.25; done`,
].join("\n");

/** What the SSH transport throws for a controller that does not answer. */
export function unreachableHost(name: string): Transport {
  return {
    name,
    exec: () => Promise.reject(new HastackError("E_SSH_CONNECT", `Cannot connect to ${name}: timed out`)),
  } as unknown as Transport;
}

/**
 * A backup command's context over test containers' transports (`hosts()`: read when a host is
 * asked, so containers may start later); any other controller is unreachable. Progress lines
 * go to `printed`; the clock says `at`.
 */
export function containerContext(
  topology: Topology,
  hosts: () => Readonly<Record<string, Transport | undefined>>,
  printed: string[],
  at: string,
): BackupContext {
  return {
    topology,
    transport: (host) => hosts()[host] ?? unreachableHost(host),
    print: (line) => void printed.push(line),
    now: () => new Date(at),
  };
}
