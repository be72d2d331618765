import { MANIFEST_FORMAT, type Manifest } from "./manifest.ts";

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
