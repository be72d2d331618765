import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mgmtRequest } from "../../hostkit/rabbitmq-http.ts";
import { generateSecret, writeSecrets } from "../../inventory/secrets-file.ts";
import { type BootedContainer, bootContainer } from "../../testing/booted-container.ts";
import { exampleTopology, generatedSecrets } from "../../testing/fixtures.ts";
import type { Topology } from "../../topology/types.ts";
import { EXTRA_NAMES, type Extra } from "./extras-manifest.ts";
import { extrasDir, takeExtras } from "./extras-run.ts";
import { verifyExtras } from "./extras-verify.ts";
import { sampleManifest } from "./fixtures.ts";
import type { Manifest } from "./manifest.ts";
import type { BackupContext } from "./site.ts";
import { BACKUP_DIR, controllerStore } from "./store-controller.ts";

/**
 * The etcd, RabbitMQ and keys parts for real, in one lab-image container booted with systemd
 * standing for ctl1 (its management address on loopback): etcd and RabbitMQ (management API on
 * loopback, hastack's administrator, the site's vhost) started by their units, a cephx keyring
 * in /etc/ceph. `backup run`'s code takes the three parts there and stores them with the
 * controller store; `verify`'s code checks them; then what docs/backup.md tells an operator to
 * do with them is done: the snapshot restored with etcdutl and read by a fresh etcd, the
 * definitions imported into a RabbitMQ that lost its vhost. A wrong key, a damaged snapshot and
 * a changed record must each fail their check. One boot: RabbitMQ takes a while to start.
 */
const ID = "20261205T010000Z";
const HOST = "ctl1";
let box: BootedContainer;
let dir: string;
let topology: Topology;
const secrets = generatedSecrets(exampleTopology("lab"));
const cephKey = generateSecret("cephx-key");
const printed: string[] = [];

async function must(script: string, stdin?: string): Promise<string> {
  const r = await box.transport.exec(["bash", "-c", script], {
    timeoutMs: 300_000,
    ...(stdin ? { stdin } : {}),
  });
  expect(r.code, `${script}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const ETCD_DEFAULTS = [
  "ETCD_NAME=ctl1",
  "ETCD_DATA_DIR=/var/lib/etcd/default",
  "ETCD_LISTEN_CLIENT_URLS=http://10.20.0.11:2379,http://127.0.0.1:2379",
  "ETCD_ADVERTISE_CLIENT_URLS=http://10.20.0.11:2379",
  "ETCD_LISTEN_PEER_URLS=http://127.0.0.1:2380",
  "ETCD_INITIAL_ADVERTISE_PEER_URLS=http://127.0.0.1:2380",
  "ETCD_INITIAL_CLUSTER=ctl1=http://127.0.0.1:2380",
  "ETCD_INITIAL_CLUSTER_STATE=new",
].join("\n");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hastack-extras-"));
  const base = exampleTopology("lab");
  topology = { ...base, source: join(dir, "site.yaml"), secretsFile: join(dir, "site.secrets.yaml") };
  await writeSecrets(topology.secretsFile, secrets);
  box = await bootContainer(HOST);
  await box.transport.writeFile("/etc/default/etcd", `${ETCD_DEFAULTS}\n`, {
    owner: "root",
    group: "root",
    mode: 0o644,
  });
  await box.transport.writeFile("/etc/rabbitmq/enabled_plugins", "[rabbitmq_management].\n", {
    owner: "root",
    group: "root",
    mode: 0o644,
  });
  await box.transport.writeFile("/etc/rabbitmq/rabbitmq.conf", "management.tcp.ip = 127.0.0.1\n", {
    owner: "root",
    group: "root",
    mode: 0o644,
  });
  await box.transport.writeFile(
    "/etc/ceph/ceph.client.cinder.keyring",
    `[client.cinder]\n\tkey = ${cephKey}\n`,
    { owner: "root", group: "root", mode: 0o600 },
  );
  await must(
    `ip addr add 10.20.0.11/32 dev lo
     systemctl start etcd rabbitmq-server
     for k in a b c; do etcdctl put /hastack/test/$k value-$k > /dev/null; done
     rabbitmqctl -q add_vhost /openstack --default-queue-type quorum`,
  );
  // hastack's administrator made through the API as guest (loopback only): rabbitmqctl add_user
  // reading its password from a pipe hung in this container.
  const admin = { user: "hastack", password: secrets.rabbitmq_admin ?? "" };
  const guest = { user: "guest", password: "guest" };
  const puts: [string, typeof admin, object][] = [
    ["/api/users/hastack", guest, { password: admin.password, tags: "administrator" }],
    ["/api/permissions/%2Fopenstack/hastack", admin, { configure: ".*", write: ".*", read: ".*" }],
    [
      "/api/queues/%2Fopenstack/hastack-test",
      admin,
      { durable: true, arguments: { "x-queue-type": "quorum" } },
    ],
  ];
  for (const [path, as, body] of puts) {
    const answer = await mgmtRequest(box.transport, "PUT", path, as, `PUT ${path}`, { body });
    expect(answer.status, path).toBe(201);
  }
}, 300_000);

afterAll(async () => {
  await box?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function context(): BackupContext {
  return { topology, transport: () => box.transport, print: (l) => void printed.push(l), secrets };
}

const store = () =>
  controllerStore({ holder: box.transport, controllers: [box.transport], warn: (l) => void printed.push(l) });

describe("the etcd, RabbitMQ and keys parts (real etcd, RabbitMQ, encryption)", () => {
  let extras: Extra[] = [];
  let manifest: Manifest;
  const stored = () => ({ id: ID, where: HOST, manifest });

  it("takes, stores and verifies all three; no secret in any output or stored file", async () => {
    const nodes = [{ host: HOST, holdsVip: false, writer: true }];
    extras = await takeExtras(context(), nodes, HOST, ID, store(), { include: ["etcd", "rabbitmq", "keys"] });
    manifest = {
      ...sampleManifest({ id: ID }),
      store: { kind: "controller", host: HOST, dir: BACKUP_DIR },
      extras,
    };
    expect(extras.map((e) => [e.kind, e.name, e.host])).toEqual([
      ["etcd-snapshot", EXTRA_NAMES.etcd, HOST],
      ["rabbitmq-definitions", EXTRA_NAMES.rabbitmq, HOST],
      ["keys", EXTRA_NAMES.keys, HOST],
    ]);
    const [etcd, rabbit, keys] = extras;
    expect(etcd?.kind === "etcd-snapshot" && etcd.etcd.revision).toBeGreaterThanOrEqual(4);
    expect(rabbit?.kind === "rabbitmq-definitions" && rabbit.rabbitmq).toMatchObject({
      vhosts: expect.arrayContaining(["/openstack"]),
      users: expect.arrayContaining(["hastack"]),
    });
    expect(keys?.kind === "keys" && keys.keys.files).toEqual([
      "site.secrets.yaml",
      "/etc/ceph/ceph.client.cinder.keyring",
    ]);
    // The key file was made 0600 beside the inventory; the spool is gone.
    expect(printed.join("\n")).toContain(`created the backup key ${join(dir, "site.backup-key")} (0600)`);
    expect((await must(`ls -d ${extrasDir(ID)} 2>/dev/null || true`)).trim()).toBe("");

    const findings = await verifyExtras(context(), store(), stored(), "/var/tmp/verify-extras", {});
    expect(findings.map((f) => [f.check, f.ok])).toEqual([
      ["etcd snapshot", true],
      ["rabbitmq definitions", true],
      ["keys", true],
    ]);
    expect(findings[2]?.detail).toMatch(
      /site\.secrets\.yaml \(\d+ secrets\), \/etc\/ceph\/ceph\.client\.cinder\.keyring \(client\.cinder\)/,
    );

    const everything = [printed.join("\n"), JSON.stringify(manifest), JSON.stringify(findings)].join("\n");
    const storedBytes = await must(`cat ${BACKUP_DIR}/${ID}/* | base64 -w0`);
    for (const secret of [secrets.rabbitmq_admin ?? "", cephKey, secrets.keystone_admin ?? ""]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(everything).not.toContain(secret);
      expect(Buffer.from(storedBytes, "base64").includes(secret)).toBe(false);
    }
  }, 180_000);

  it("refuses a wrong key, a damaged snapshot and a changed record", async () => {
    const wrong = join(dir, "other.key");
    await writeFile(wrong, `${Buffer.alloc(32, 7).toString("base64")}\n`, { mode: 0o600 });
    const withWrongKey = await verifyExtras(context(), store(), stored(), "/var/tmp/verify-extras", {
      key_file: wrong,
    });
    expect(withWrongKey.map((f) => [f.check, f.ok])).toEqual([
      ["etcd snapshot", true],
      ["rabbitmq definitions", true],
      ["keys", false],
    ]);
    expect(withWrongKey[2]?.detail).toMatch(/is not the one it was encrypted with, or the part was changed/);

    // A record the snapshot does not match: etcdutl's own status is what is compared.
    const etcd = extras[0];
    if (etcd?.kind !== "etcd-snapshot") throw new Error("no etcd part");
    const changed = { ...etcd, etcd: { ...etcd.etcd, revision: etcd.etcd.revision + 1 } };
    manifest = { ...manifest, extras: [changed, ...extras.slice(1)] };
    const recorded = await verifyExtras(context(), store(), stored(), "/var/tmp/verify-extras", {});
    expect(recorded[0]).toEqual({
      ok: false,
      check: "etcd snapshot",
      detail: `revision ${etcd.etcd.revision}, recorded ${etcd.etcd.revision + 1}`,
    });

    // A snapshot cut short, its sha256 recorded as it is now: etcdutl itself must refuse it.
    const file = `${BACKUP_DIR}/${ID}/${EXTRA_NAMES.etcd}`;
    const [size, sha] = (
      await must(`truncate -s 8192 ${file}; stat -c %s ${file}; sha256sum < ${file} | cut -d' ' -f1`)
    )
      .trim()
      .split("\n");
    manifest = {
      ...manifest,
      extras: [{ ...etcd, size: Number(size), sha256: sha ?? "" }, ...extras.slice(1)],
    };
    const cut = await verifyExtras(context(), store(), stored(), "/var/tmp/verify-extras", {});
    expect(cut[0]?.ok).toBe(false);
    expect(cut[0]?.detail).toMatch(/etcdutl|snapshot/);
  }, 120_000);

  it("restores as docs/backup.md says: etcdutl snapshot restore, rabbitmqctl import_definitions", async () => {
    // The snapshot was cut by the previous case: take it again from the running member.
    const fresh = await takeExtras(
      context(),
      [{ host: HOST, holdsVip: false, writer: true }],
      HOST,
      "20261205T020000Z",
      store(),
      {
        include: ["etcd", "rabbitmq"],
      },
    );
    expect(fresh).toHaveLength(2);
    const at = `${BACKUP_DIR}/20261205T020000Z`;
    const out = await must(
      `etcdutl snapshot restore ${at}/${EXTRA_NAMES.etcd} --data-dir /var/tmp/etcd-restored --name ctl1 \\
         --initial-cluster ctl1=http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 > /dev/null 2>&1
       etcd --data-dir /var/tmp/etcd-restored --name ctl1 --listen-client-urls http://127.0.0.1:12379 \\
         --advertise-client-urls http://127.0.0.1:12379 --listen-peer-urls http://127.0.0.1:12380 > /var/tmp/etcd-restored.log 2>&1 &
       for i in $(seq 1 100); do etcdctl --endpoints=http://127.0.0.1:12379 get /hastack/test/b --print-value-only 2>/dev/null | grep -q . && break; sleep 0.2; done
       etcdctl --endpoints=http://127.0.0.1:12379 get --prefix /hastack/test/ --print-value-only; kill %1
       rabbitmqctl -q delete_vhost /openstack
       install -m 0640 -o root -g rabbitmq ${at}/${EXTRA_NAMES.rabbitmq} /tmp/definitions.json
       timeout 120 rabbitmqctl -q import_definitions /tmp/definitions.json 2>&1; echo "import=$?"; rm /tmp/definitions.json
       rabbitmqctl -q list_vhosts name; rabbitmqctl -q list_queues -p /openstack name`,
    );
    expect(out).toMatch(/value-a\nvalue-b\nvalue-c\n/);
    expect(out).toContain("import=0");
    expect(out).toContain("/openstack");
    expect(out).toContain("hastack-test");
    expect(await readFile(join(dir, "site.backup-key"), "utf8")).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
  }, 180_000);
});
