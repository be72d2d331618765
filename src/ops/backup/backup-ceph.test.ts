import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InventoryInput } from "../../inventory/schema.ts";
import { createMon, createOsd } from "../../services/ceph/daemons.ts";
import { ceph } from "../../services/ceph/index.ts";
import { BACKUP_CLIENT, monAddrVec, monHosts } from "../../services/ceph/layout.ts";
import { cephFsid } from "../../services/ceph/settings.ts";
import { type Container, startContainer } from "../../services/openstack/test-container.ts";
import { runStep } from "../../services/openstack/test-kit.ts";
import { services } from "../../services/registry.ts";
import {
  exampleTopology,
  generatedSecrets,
  placedHostFiles,
  siteTlsSecrets,
} from "../../testing/fixtures.ts";
import { toolRoot } from "../../testing/real-tools.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { backupList } from "./list.ts";
import { backupRun } from "./run.ts";
import type { BackupContext } from "./site.ts";
import { backupVerify } from "./verify.ts";

/**
 * The Ceph store for real: one lab-image container is both ctl1 (a one-node Galera cluster, the
 * controller's keyrings) and sto1 (a monitor and a BlueStore OSD on a file, made by the deploy's
 * own functions; its `auth` and `pools` steps create client.hastack-backup and the pool
 * hastack-backups). `backup run`, `list` and `verify` then go through rados as that user.
 */
const single = (inv: InventoryInput) => {
  for (const h of ["sto2", "sto3"]) delete inv.hosts[h];
  inv.services = {
    ...inv.services,
    ceph: {
      osd_file: { path: "/var/lib/ceph/disk/osd-block", size_gb: 2 },
      failure_domain: "osd",
      pools: { size: 1, min_size: 1, pg_num: 8 },
    },
  };
  inv.overrides = [
    { file: "/etc/ceph/ceph.conf", section: "global", set: { mon_allow_pool_size_one: true } },
  ];
};
const topology = exampleTopology("lab", single);
let secrets = generatedSecrets(topology);
let box: Container;
const printed: string[] = [];

function ctx(at: string): BackupContext {
  return {
    topology,
    transport: (host: string): Transport =>
      host === "ctl1"
        ? box.transport
        : ({
            name: host,
            exec: () =>
              Promise.reject(new HastackError("E_SSH_CONNECT", `Cannot connect to ${host}: timed out`)),
          } as unknown as Transport),
    print: (line) => void printed.push(line),
    now: () => new Date(at),
  };
}

async function must(argv: string[]): Promise<string> {
  const r = await box.transport.exec(argv, { timeoutMs: 120_000 });
  expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

function step(id: string) {
  const spec = ceph.steps?.(topology, services).find((s) => s.id === id);
  if (!spec) throw new Error(`no step ${id}`);
  return runStep({
    service: "ceph",
    step: spec,
    host: "sto1",
    topology,
    services,
    transport: box.transport,
    secrets,
  });
}

beforeAll(async () => {
  await toolRoot();
  secrets = { ...secrets, ...(await siteTlsSecrets(topology)) };
  const files = ["sto1", "ctl1"]
    .flatMap((h) => placedHostFiles(topology, h, secrets))
    .filter(
      (f, i, all) =>
        (f.path.includes("ceph") || f.path.endsWith("60-galera.cnf")) &&
        all.findIndex((g) => g.path === f.path) === i,
    );
  box = await startContainer(
    "ctl1",
    [
      "mkdir -p /run/ceph && chown ceph:ceph /run/ceph",
      "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld",
      "mariadbd --user=mysql --wsrep-new-cluster > /tmp/galera.log 2>&1 &",
      "for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done",
      "mariadb -e 'CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1), (2), (3)'",
    ].join("\n"),
    { hostname: "ctl1", addresses: ["10.20.0.11", "10.21.0.31"], files, timeoutMs: 900_000 },
  );
  const seed = {
    fsid: cephFsid(topology),
    mons: monHosts(topology).map((h) => [h.name, monAddrVec(topology, h)] as [string, string]),
  };
  const keys = {
    mon: secrets.ceph_mon_key ?? "",
    admin: secrets.ceph_admin_key ?? "",
    bootstrapOsd: secrets.ceph_bootstrap_osd_key ?? "",
  };
  await createMon(box.transport, "sto1", keys, seed, false);
  await must(["ceph-mon", "-i", "sto1", "--setuser", "ceph", "--setgroup", "ceph"]);
  expect((await step("quorum")).after).toBe(true);
  expect((await step("auth")).after).toBe(true);
  const osd = await createOsd(box.transport, "sto1", {
    kind: "file",
    path: "/var/lib/ceph/disk/osd-block",
    sizeGb: 2,
  });
  await must(["ceph-osd", "-i", String(osd), "--setuser", "ceph", "--setgroup", "ceph"]);
  expect((await step("pools")).after).toBe(true);
}, 600_000);

afterAll(async () => {
  await box?.stop();
});

describe("hastack backup with the Ceph store (real Ceph, rados as client.hastack-backup)", () => {
  it("the backup user reaches its pool only, which carries its own application tag", async () => {
    const ls = await must(["ceph", "osd", "pool", "ls", "detail", "-f", "json"]);
    const pool = (
      JSON.parse(ls) as { pool_name: string; application_metadata: Record<string, unknown> }[]
    ).find((p) => p.pool_name === BACKUP_CLIENT.pool);
    expect(Object.keys(pool?.application_metadata ?? {})).toEqual(["hastack"]);
    const as = (pool: string) =>
      box.transport.exec(
        [
          "timeout",
          "30",
          "rados",
          "-n",
          BACKUP_CLIENT.name,
          "-k",
          BACKUP_CLIENT.keyring,
          "-p",
          pool,
          "put",
          "probe",
          "/etc/hostname",
        ],
        { timeoutMs: 60_000 },
      );
    expect((await as(BACKUP_CLIENT.pool)).code).toBe(0);
    expect((await as("images")).code).not.toBe(0);
    expect((await as("backups")).code).not.toBe(0);
    await must(["rados", "-p", BACKUP_CLIENT.pool, "rm", "probe"]);
  }, 120_000);

  it("runs, lists and verifies through Ceph; retention deletes the older backup; a corrupt part fails verify", async () => {
    const settings = { keep: 1, part_mb: 1 };
    const first = await backupRun(ctx("2026-12-04T15:00:00Z"), settings);
    expect(first.manifest).toMatchObject({ host: "ctl1", store: { kind: "ceph", pool: "hastack-backups" } });
    expect(first.manifest.tables).toContainEqual({ db: "app", table: "t", before: 3, after: 3 });
    expect((await backupList(ctx("2026-12-04T15:00:00Z"))).map((b) => [b.id, b.complete])).toEqual([
      ["20261204T150000Z", true],
    ]);
    const ok = await backupVerify(ctx("2026-12-04T15:00:00Z"));
    expect(ok.findings.every((f) => f.ok)).toBe(true);
    expect(ok).toMatchObject({ id: "20261204T150000Z", host: "ctl1", ok: true });

    const second = await backupRun(ctx("2026-12-04T16:00:00Z"), settings);
    expect(second.pruned).toEqual(["20261204T150000Z"]);
    const objects = (await must(["rados", "-p", BACKUP_CLIENT.pool, "ls"])).split("\n").filter(Boolean);
    expect(objects.every((o) => o.startsWith("20261204T160000Z/"))).toBe(true);
    expect(objects).toContain("20261204T160000Z/manifest.json");

    // A part replaced by a shorter one in the pool: verify names it and restores nothing.
    await must([
      "sh",
      "-c",
      `rados -p ${BACKUP_CLIENT.pool} get 20261204T160000Z/part-0000 /tmp/p && truncate -s -10 /tmp/p && rados -p ${BACKUP_CLIENT.pool} put 20261204T160000Z/part-0000 /tmp/p`,
    ]);
    const bad = await backupVerify(ctx("2026-12-04T16:00:00Z"));
    expect(bad.ok).toBe(false);
    expect(bad.findings).toEqual([{ ok: false, check: "parts", detail: "differ or missing: part-0000" }]);
    expect(
      (await box.transport.exec(["sh", "-c", "ls -d /var/tmp/hastack-backup-* 2>/dev/null"])).stdout,
    ).toBe("");
  }, 400_000);
});
