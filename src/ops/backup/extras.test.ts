import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { compareSnapshot, parseSnapshotStatus } from "./etcd-part.ts";
import { sampleExtras, sampleManifest } from "./fixtures.ts";
import { listed, listText } from "./list.ts";
import { parseManifest } from "./manifest.ts";
import { checkDefinitions, readDefinitions } from "./rabbitmq-part.ts";
import { listFilesScript, parseFileListing } from "./scripts.ts";

const where = "ctl1 20261204T151230Z/manifest.json";
const [etcd, rabbit] = sampleExtras();

describe("a manifest's extras", () => {
  it("reads a manifest without extras (Galera-only, older) and one with the three", () => {
    expect(parseManifest(JSON.stringify(sampleManifest()), where).extras).toBeUndefined();
    const m = sampleManifest({ extras: sampleExtras() });
    expect(parseManifest(JSON.stringify(m), where)).toEqual(m);
  });

  it("refuses two parts of a kind, an unknown kind, a name that is not its kind's, a bad key id", () => {
    const with_ = (extras: unknown[]) => JSON.stringify({ ...sampleManifest(), extras });
    expect(() => parseManifest(with_([etcd, etcd]), where)).toThrow(`${where}: two etcd-snapshot parts`);
    expect(() => parseManifest(with_([{ ...etcd, kind: "vault" }]), where)).toThrow(/extras\.0\.kind/);
    expect(() => parseManifest(with_([{ ...etcd, name: "part-0009" }]), where)).toThrow(/extras\.0\.name/);
    const keys = sampleExtras()[2];
    expect(() =>
      parseManifest(with_([{ ...keys, keys: { ...(keys as { keys: object }).keys, keyId: "KEY" } }]), where),
    ).toThrow(/extras\.0\.keys\.keyId/);
  });

  it("are listed with the backup: galera+etcd+rabbitmq+keys, galera alone for an older one", () => {
    const rows = listed([
      {
        id: "20261204T151230Z",
        where: "pool hastack-backups",
        manifest: sampleManifest({ extras: sampleExtras() }),
      },
      {
        id: "20261203T101010Z",
        where: "pool hastack-backups",
        manifest: sampleManifest({ id: "20261203T101010Z" }),
      },
    ]);
    expect(rows.map((r) => r.contains)).toEqual([["galera", "etcd", "rabbitmq", "keys"], ["galera"]]);
    expect(listText(rows)).toContain("seqno 8394  galera+etcd+rabbitmq+keys  pool hastack-backups");
  });
});

describe("the etcd part's check", () => {
  const status = '{"hash":3476113131,"revision":42,"totalKey":9,"totalSize":20480,"version":"3.5.0"}';
  it("reads etcdutl's status and compares it with the record", () => {
    if (etcd?.kind !== "etcd-snapshot") throw new Error("fixture");
    const got = parseSnapshotStatus({ name: "ctl1" }, `${status}\n`);
    expect(compareSnapshot(etcd, got)).toEqual({
      ok: true,
      check: "etcd snapshot",
      detail: "etcdutl snapshot status: revision 42, 9 keys, hash 3476113131 as recorded",
    });
    expect(compareSnapshot(etcd, { ...got, hash: 1, totalKey: 8 })).toEqual({
      ok: false,
      check: "etcd snapshot",
      detail: "hash 1, recorded 3476113131; totalKey 8, recorded 9",
    });
    expect(() => parseSnapshotStatus({ name: "ctl1" }, "Error: snapshot file is corrupt")).toThrow(/ctl1/);
  });
});

describe("the RabbitMQ part's check", () => {
  const want = { vhost: "/openstack", users: ["hastack"] };
  const defs = (over: object = {}) =>
    JSON.stringify({
      rabbitmq_version: "4.0.5",
      users: [{ name: "openstack", password_hash: "x" }, { name: "hastack" }],
      vhosts: [{ name: "/openstack" }, { name: "/" }],
      permissions: [],
      queues: [{ name: "q", vhost: "/openstack", durable: true }],
      ...over,
    });

  it("records the sorted vhosts and users, and verify finds them as recorded", () => {
    if (rabbit?.kind !== "rabbitmq-definitions") throw new Error("fixture");
    expect(readDefinitions(defs(), want)).toEqual({ record: rabbit.rabbitmq, problems: [] });
    expect(checkDefinitions(defs(), rabbit, want)).toMatchObject({ ok: true });
    expect(checkDefinitions(defs({ queues: [] }), rabbit, want)).toEqual({
      ok: false,
      check: "rabbitmq definitions",
      detail: "0 queues, recorded 1",
    });
  });

  it("refuses what is not JSON, not definitions, or lacks the vhost or the administrator", () => {
    expect(readDefinitions("<html>", want).problems).toEqual(["not JSON"]);
    expect(readDefinitions('{"users":3}', want).problems[0]).toMatch(/^not RabbitMQ definitions \(users:/);
    expect(readDefinitions(defs({ vhosts: [{ name: "/" }], users: [] }), want).problems).toEqual([
      "no vhost /openstack",
      "no user hastack",
    ]);
  });
});

describe("listFilesScript (run by bash)", () => {
  let dir = "";
  afterAll(() => rm(dir, { recursive: true, force: true }));
  it("lists the named files with size and sha256, and fails on a missing one", async () => {
    dir = await mkdtemp(join(tmpdir(), "hastack-files-"));
    await writeFile(join(dir, "keys.enc"), "abc");
    const run = promisify(execFile);
    const { stdout } = await run("bash", ["-c", listFilesScript(dir, ["keys.enc"])]);
    expect(parseFileListing("here", stdout)).toEqual([
      {
        name: "keys.enc",
        size: 3,
        sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      },
    ]);
    await expect(
      run("bash", ["-c", listFilesScript(dir, ["keys.enc", "etcd-snapshot.db"])]),
    ).rejects.toMatchObject({
      code: 3,
      stderr: expect.stringContaining("etcd-snapshot.db is missing"),
    });
  });
});
