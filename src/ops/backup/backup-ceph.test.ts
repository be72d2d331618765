import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSecrets } from "../../inventory/secrets-file.ts";
import { BACKUP_CLIENT } from "../../services/ceph/layout.ts";
import { bootstrapCeph, type CephBox, startCephBox } from "../../testing/real-ceph.ts";
import { containerContext, ONE_NODE_GALERA } from "./fixtures.ts";
import { backupList } from "./list.ts";
import { backupRun } from "./run.ts";
import { radosArgv } from "./store-ceph.ts";
import { backupVerify } from "./verify.ts";

/**
 * The Ceph store for real: one lab-image container is both ctl1 (a one-node Galera cluster, the
 * controller's keyrings) and sto1 (a monitor and a BlueStore OSD on a file, made by the deploy's
 * own functions; its `auth` and `pools` steps create client.hastack-backup and the pool
 * hastack-backups). `backup run`, `list` and `verify` then go through rados as that user, the
 * keys part (secrets file and this controller's keyrings, encrypted) beside the Galera parts.
 */
let ceph: CephBox;
let dir = "";
const printed: string[] = [];
/** The site's files (inventory path, secrets file, backup key) in a temporary directory. */
const site = () => ({
  ...ceph.topology,
  source: join(dir, "site.yaml"),
  secretsFile: join(dir, "site.secrets.yaml"),
});
const ctx = (at: string) => containerContext(site(), () => ({ ctl1: ceph.box.transport }), printed, at);

/** The keyrings `backup run` must find in the controller's /etc/ceph. */
async function keyrings(): Promise<string[]> {
  const out = await must(["bash", "-c", "ls /etc/ceph/*.keyring"]);
  return out.split("\n").filter(Boolean).sort();
}

async function must(argv: string[]): Promise<string> {
  const r = await ceph.box.transport.exec(argv, { timeoutMs: 120_000 });
  expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hastack-backup-ceph-"));
  await writeSecrets(join(dir, "site.secrets.yaml"), { keystone_admin: "x".repeat(32) });
  ceph = await startCephBox({
    oneStorageHost: true,
    pools: { size: 1, min_size: 1, pg_num: 8 },
    name: "ctl1",
    addresses: ["10.20.0.11"],
    fileHosts: ["sto1", "ctl1"],
    alsoFiles: (path) => path.endsWith("60-galera.cnf"),
    setup: [
      ONE_NODE_GALERA,
      "mariadb -e 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1), (2), (3)'",
    ].join("\n"),
  });
  await bootstrapCeph(ceph, {
    osds: [{ kind: "file", path: "/var/lib/ceph/disk/osd-block", sizeGb: 2 }],
    mgr: false,
  });
}, 600_000);

afterAll(async () => {
  await ceph?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("hastack backup with the Ceph store (real Ceph, rados as client.hastack-backup)", () => {
  it("the backup user reaches its pool only, which carries its own application tag", async () => {
    const ls = await must(["ceph", "osd", "pool", "ls", "detail", "-f", "json"]);
    const pool = (
      JSON.parse(ls) as { pool_name: string; application_metadata: Record<string, unknown> }[]
    ).find((p) => p.pool_name === BACKUP_CLIENT.pool);
    expect(Object.keys(pool?.application_metadata ?? {})).toEqual(["hastack"]);
    const as = (pool: string) =>
      ceph.box.transport.exec(radosArgv(["put", "probe", "/etc/hostname"], pool), { timeoutMs: 60_000 });
    expect((await as(BACKUP_CLIENT.pool)).code).toBe(0);
    expect((await as("images")).code).not.toBe(0);
    expect((await as("backups")).code).not.toBe(0);
    await must(["rados", "-p", BACKUP_CLIENT.pool, "rm", "probe"]);
  }, 120_000);

  it("runs, lists and verifies through Ceph (with the keys part); retention deletes the older backup; a corrupt part fails verify", async () => {
    // The keys part: what goes through the Ceph store as a single file (etcd and RabbitMQ do not run here).
    const settings = { keep: 1, part_mb: 1, include: ["keys" as const] };
    const first = await backupRun(ctx("2026-12-04T15:00:00Z"), settings);
    expect(first.manifest).toMatchObject({ host: "ctl1", store: { kind: "ceph", pool: "hastack-backups" } });
    expect(first.manifest.extras?.map((e) => [e.name, e.kind === "keys" && e.keys.files])).toEqual([
      ["keys.enc", ["site.secrets.yaml", ...(await keyrings())]],
    ]);
    expect(first.manifest.tables).toContainEqual({ db: "app", table: "t", before: 3, after: 3 });
    expect((await backupList(ctx("2026-12-04T15:00:00Z"))).map((b) => [b.id, b.complete])).toEqual([
      ["20261204T150000Z", true],
    ]);
    const ok = await backupVerify(ctx("2026-12-04T15:00:00Z"));
    expect(ok.findings.every((f) => f.ok)).toBe(true);
    expect(ok.findings.at(-1)).toMatchObject({
      check: "keys",
      detail: expect.stringContaining("(client.admin)"),
    });
    expect(ok).toMatchObject({ id: "20261204T150000Z", host: "ctl1", ok: true });

    const second = await backupRun(ctx("2026-12-04T16:00:00Z"), settings);
    expect(second.pruned).toEqual(["20261204T150000Z"]);
    const objects = (await must(["rados", "-p", BACKUP_CLIENT.pool, "ls"])).split("\n").filter(Boolean);
    expect(objects.every((o) => o.startsWith("20261204T160000Z/"))).toBe(true);
    expect(objects).toContain("20261204T160000Z/manifest.json");
    expect(objects).toContain("20261204T160000Z/keys.enc");

    // A part replaced by a shorter one in the pool: verify names it and restores nothing.
    await must([
      "sh",
      "-c",
      `rados -p ${BACKUP_CLIENT.pool} get 20261204T160000Z/part-0000 /tmp/p && truncate -s -10 /tmp/p && rados -p ${BACKUP_CLIENT.pool} put 20261204T160000Z/part-0000 /tmp/p`,
    ]);
    const bad = await backupVerify(ctx("2026-12-04T16:00:00Z"));
    expect(bad.ok).toBe(false);
    expect(bad.findings.map((f) => [f.check, f.ok])).toEqual([
      ["parts", false],
      ["keys", true],
    ]);
    expect(bad.findings[0]?.detail).toBe("differ or missing: part-0000");
    // The keys part cut short in the pool: verify names it.
    await must([
      "sh",
      "-c",
      `rados -p ${BACKUP_CLIENT.pool} get 20261204T160000Z/keys.enc /tmp/k && truncate -s -1 /tmp/k && rados -p ${BACKUP_CLIENT.pool} put 20261204T160000Z/keys.enc /tmp/k`,
    ]);
    expect((await backupVerify(ctx("2026-12-04T16:00:00Z"))).findings.at(-1)).toEqual({
      ok: false,
      check: "keys",
      detail: "keys.enc: size or sha256 differs from the manifest",
    });
    expect(
      (await ceph.box.transport.exec(["sh", "-c", "ls -d /var/tmp/hastack-backup-* 2>/dev/null"])).stdout,
    ).toBe("");
  }, 400_000);
});
