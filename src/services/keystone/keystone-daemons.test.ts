import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedAnswers } from "../../health/shared.ts";
import { generateSecret } from "../../inventory/secrets-file.ts";
import { exampleTopology, placed, renderedFile } from "../../testing/fixtures.ts";
import { toolRoot } from "../../testing/real-tools.ts";
import { hostByName } from "../../topology/types.ts";
import { type Container, NsenterTransport, startContainer } from "../openstack/test-container.ts";
import { runStep } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { secretSpecs } from "../secret-specs.ts";
import { KEYSTONE_CONF, UWSGI_INI } from "./config.ts";
import {
  FERNET_DIR,
  FERNET_MAX_ACTIVE_KEYS,
  FERNET_SECRET,
  type KeyState,
  parseKeySecret,
  repository,
} from "./fernet.ts";
import { keystoneProbes } from "./health.ts";
import { readRepo, writeRepo } from "./key-repo.ts";
import { openrcFiles } from "./openrc.ts";
import { type KeyTarget, rotateFernet } from "./rotate.ts";
import { login, validateToken } from "./token.ts";

/**
 * Keystone deployed by its own steps in a lab-image container standing for ctl1: MariaDB and
 * memcached in it, the rendered keystone.conf, /etc/default/keystone and uwsgi ini, Debian's init
 * script starting uwsgi as systemd would, and a small HAProxy holding the VIP (the site's
 * haproxy.cfg would also bind the database port MariaDB holds here). A second Keystone process
 * on ctl2's address, given its own key directory written from the same secret, stands for a
 * second controller: tokens from one must validate on the other, through a key rotation too.
 */
const host = "ctl1";
// Its small HAProxy holds the internal VIP only: the site without a public VIP or TLS there (the
// openrc then names the internal VIP). TLS on the public VIP is exercised on the lab (smoke e2e).
const base = exampleTopology("lab", (inv) => {
  inv.vips = { internal: inv.vips.internal };
  inv.tls = { public: "off" };
});
let dir: string;
let topology: typeof base;
const secrets = Object.fromEntries(
  secretSpecs(services).map((s) => [s.name, generateSecret(s.kind, s.length)]),
);
const keystone = services.find((s) => s.id === "keystone");
const VIP = "http://10.20.0.10:5000/v3";
const CTL1 = "http://10.20.0.11:5000/v3";
const CTL2 = "http://10.20.0.12:5000/v3";
const CTL2_KEYS = "/etc/keystone2/fernet-keys";
let box: Container;

const step = (id: string) => {
  const found = keystone?.steps?.(topology, services).find((s) => s.id === id);
  if (!found) throw new Error(`keystone has no step ${id}`);
  return found;
};
const run = (id: string, values = secrets) =>
  runStep({
    service: "keystone",
    step: step(id),
    host,
    topology,
    services,
    transport: box.transport,
    secrets: values,
  });
const exec = (c: string[], o: Parameters<Container["transport"]["exec"]>[1]) => box.transport.exec(c, o);
const adminToken = async (url: string) => {
  const r = await login(exec, {
    authUrl: url,
    user: "admin",
    password: secrets.keystone_admin ?? "",
    project: "admin",
  });
  if (!r.ok) throw new Error(`no token from ${url}: ${r.reason}`);
  return r.token;
};

const HAPROXY = `global
  maxconn 200
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
listen keystone_api
  bind 10.20.0.10:5000
  option httpchk
  http-check send meth GET uri /v3
  server ctl1 10.20.0.11:5000 check inter 1s rise 1
`;

beforeAll(() => toolRoot(), 900_000);

describe("Keystone deployed by hastack's steps, in a real Keystone 2025.1", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hastack-keystone-"));
    topology = { ...base, source: join(dir, "inventory.yaml") };
    const file = (path: string, at = path) => placed(renderedFile(base, host, path), secrets, at);
    const conf = file(KEYSTONE_CONF);
    box = await startContainer(
      host,
      `mkdir -p /run/mysqld /etc/keystone2 && chown mysql:mysql /run/mysqld
       mariadbd --user=mysql --wsrep-on=OFF --bind-address=0.0.0.0 > /tmp/mariadb.log 2>&1 &
       memcached -u memcache -l 10.20.0.11 -p 11211 -U 0 > /tmp/memcached.log 2>&1 &
       haproxy -D -f /tmp/haproxy.cfg
       for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done
       mariadb-admin ping >/dev/null
       # ctl2's Keystone: the same config, its own key directories, and no cache: a token it
       # validates is one it decrypted, never one memcached remembered from ctl1.
       sed -e 's#/etc/keystone/fernet-keys/#${CTL2_KEYS}/#' -e 's#/etc/keystone/credential-keys/#/etc/keystone2/credential-keys/#' \\
         -e 's#^enabled = true#enabled = false#' /etc/keystone/keystone.conf > /etc/keystone2/keystone.conf
       grep -q '^enabled = false' /etc/keystone2/keystone.conf
       chown -R root:keystone /etc/keystone2 && chmod 0750 /etc/keystone2 && chmod 0640 /etc/keystone2/keystone.conf`,
      {
        hostname: host,
        addresses: ["10.20.0.10", "10.20.0.11", "10.20.0.12"],
        files: [
          conf,
          file("/etc/default/keystone"),
          file(UWSGI_INI),
          { path: "/tmp/haproxy.cfg", content: HAPROXY, mode: 0o644, owner: "root:root" },
        ],
        readyTimeoutMs: 600_000,
      },
    );
  }, 660_000);
  afterAll(async () => {
    await box?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** uwsgi as keystone.service runs it: Debian's init script, reading /etc/default/keystone. */
  async function startKeystone(which: "ctl1" | "ctl2") {
    const cmd =
      which === "ctl1"
        ? "/etc/init.d/keystone systemd-start"
        : `env OS_KEYSTONE_CONFIG_DIR=/etc/keystone2 uwsgi_python3 --http-socket 10.20.0.12:5000 --ini ${UWSGI_INI} --processes 1 --threads 4`;
    await box.transport.exec([
      "sh",
      "-c",
      `setsid runuser -u keystone -- ${cmd} > /tmp/${which}.log 2>&1 < /dev/null &`,
    ]);
    const url = which === "ctl1" ? CTL1 : CTL2;
    const r = await box.transport.exec(
      [
        "sh",
        "-c",
        `for i in $(seq 1 240); do curl -sf -o /dev/null ${url} && exit 0; sleep 0.5; done; tail -20 /tmp/${which}.log; exit 1`,
      ],
      { timeoutMs: 150_000 },
    );
    if (r.code !== 0) throw new Error(`keystone on ${which} did not answer: ${r.stdout}`);
  }

  it("creates the database, syncs the schema once, writes the keys; a second run changes nothing", async () => {
    expect(await run("database")).toMatchObject({ before: false, applied: true, after: true });
    expect(await run("db-sync")).toMatchObject({ before: false, applied: true, after: true });
    expect(await run("db-sync")).toMatchObject({ before: true, applied: false });
    // That second check came from the memo: keystone-manage did not run. The memo holds the
    // package's version and the revisions the database stores.
    const memo = await box.transport.exec(["cat", "/var/lib/hastack/schema-memo/keystone.db-sync"]);
    const version = await box.transport.exec(["dpkg-query", "-W", `-f=\${Version}`, "python3-keystone"]);
    const revs = await box.transport.exec([
      "mariadb",
      "-N",
      "-B",
      "-e",
      "SELECT GROUP_CONCAT(version_num ORDER BY version_num SEPARATOR ',') FROM keystone.alembic_version",
    ]);
    expect(memo.stdout).toBe(`${version.stdout} keystone=${revs.stdout.trim()}`);
    expect(revs.stdout.trim()).toMatch(/^\w+(,\w+)*$/);
    const seen: string[] = [];
    const watched = new Proxy(box.transport, {
      get(target, key) {
        if (key === "exec")
          return (c: string[] | string, o?: Parameters<Container["transport"]["exec"]>[1]) => {
            seen.push(Array.isArray(c) ? c.join(" ") : c);
            return target.exec(c, o);
          };
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const runWatched = () =>
      runStep({
        service: "keystone",
        step: step("db-sync"),
        host,
        topology,
        services,
        transport: watched,
        secrets,
      });
    expect(await runWatched()).toMatchObject({ before: true, applied: false });
    expect(seen.filter((c) => c.includes("keystone-manage"))).toEqual([]);
    // A memo that does not match (another package, a restored database): keystone-manage asks
    // again, says current, and the memo is written anew.
    await box.transport.exec(["sh", "-c", "echo stale > /var/lib/hastack/schema-memo/keystone.db-sync"]);
    expect(await runWatched()).toMatchObject({ before: true, applied: false });
    expect(seen.filter((c) => c.includes("keystone-manage") && c.includes("db_sync --check")).length).toBe(1);
    expect((await box.transport.exec(["cat", "/var/lib/hastack/schema-memo/keystone.db-sync"])).stdout).toBe(
      memo.stdout,
    );
    expect(await run("keys")).toMatchObject({ before: false, applied: true, after: true });
    expect(await run("keys")).toMatchObject({ before: true, applied: false });
    const ls = await box.transport.exec([
      "sh",
      "-c",
      `stat -c '%n %U:%G %a' ${FERNET_DIR} ${FERNET_DIR}/* /etc/keystone/credential-keys/*`,
    ]);
    expect(ls.stdout.trim().split("\n")).toEqual([
      `${FERNET_DIR} keystone:keystone 700`,
      `${FERNET_DIR}/0 keystone:keystone 600`,
      `${FERNET_DIR}/1 keystone:keystone 600`,
      "/etc/keystone/credential-keys/0 keystone:keystone 600",
      "/etc/keystone/credential-keys/1 keystone:keystone 600",
    ]);
  }, 600_000);

  it("bootstraps admin, region and identity endpoints through the VIP; the demo user; the openrc files", async () => {
    await startKeystone("ctl1");
    const first = await run("bootstrap");
    expect(first).toMatchObject({ before: false, applied: true, after: true });
    expect(await run("bootstrap")).toMatchObject({ before: true, applied: false });
    expect(await run("demo")).toMatchObject({ before: false, applied: true, after: true });
    expect(await run("demo")).toMatchObject({ before: true, applied: false });
    expect(await run("openrc")).toMatchObject({ before: false, applied: true, after: true });
    const [admin, demo] = openrcFiles({ topology, secret: (n) => secrets[n] ?? "" });
    for (const f of [admin, demo]) expect(((await stat(f?.path ?? "")).mode & 0o777).toString(8)).toBe("600");

    // The real client with the openrc files, as an operator would use them.
    for (const f of [admin, demo]) {
      const r = await box.transport.exec(["sh", "-c", 'eval "$(cat)"; exec openstack token issue -f json'], {
        stdin: f?.content ?? "",
        timeoutMs: 120_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toHaveProperty("id");
    }
    const catalog = await box.transport.exec(
      ["sh", "-c", 'eval "$(cat)"; exec openstack endpoint list --service identity -f json'],
      {
        stdin: admin?.content ?? "",
        timeoutMs: 120_000,
      },
    );
    const rows = JSON.parse(catalog.stdout) as { Interface: string; URL: string; Region: string }[];
    expect(rows.map((e) => [e.Interface, e.URL, e.Region]).sort()).toEqual([
      ["admin", VIP, "RegionOne"],
      ["internal", VIP, "RegionOne"],
      ["public", VIP, "RegionOne"],
    ]);
  }, 900_000);

  it("status: a token through the VIP, the catalogue holds every deployed service", async () => {
    // Only Keystone is deployed in this container: a site that enables more expects them in the
    // catalogue too (the lab's status checks that).
    const keystoneOnly = { ...topology, openstack: { ...topology.openstack, enabled: ["keystone"] } };
    const probe = (secret: (n: string) => string) =>
      keystoneProbes(keystoneOnly, services)[0]?.run({
        topology,
        host: hostByName(base, host),
        transport: () => box.transport,
        exec: (_h, c, o) => box.transport.exec(c, o),
        secret,
        signal: new AbortController().signal,
        shared: sharedAnswers(),
      });
    const result = await probe((n) => secrets[n] ?? "");
    expect(result).toMatchObject({ state: "ok" });
    expect(result?.summary).toContain("catalogue: keystone");
    const wrong = await probe((n) => (n === "keystone_admin" ? "wrong" : (secrets[n] ?? "")));
    expect(wrong).toMatchObject({ state: "down" });
    expect(wrong?.summary).toContain("HTTP 401");
  }, 300_000);

  it("a second Keystone with keys written from the same secret validates the first one's tokens, and back", async () => {
    await writeRepo(
      box.transport,
      CTL2_KEYS,
      repository(parseKeySecret(FERNET_SECRET, secrets[FERNET_SECRET] ?? ""), FERNET_MAX_ACTIVE_KEYS),
    );
    await writeRepo(
      box.transport,
      "/etc/keystone2/credential-keys",
      repository({ ...parseKeySecret("c", secrets.keystone_credential_keys ?? ""), generation: 1 }, 3),
    );
    await startKeystone("ctl2");
    const fromOne = await adminToken(CTL1);
    const fromTwo = await adminToken(CTL2);
    expect(await validateToken(exec, CTL2, fromOne)).toBe(200);
    expect(await validateToken(exec, CTL1, fromTwo)).toBe(200);
    // A Keystone whose keys differ refuses it: the check above can fail.
    await writeRepo(
      box.transport,
      CTL2_KEYS,
      repository({ seed: "0".repeat(64), generation: 1 }, FERNET_MAX_ACTIVE_KEYS),
    );
    expect([401, 404]).toContain(await validateToken(exec, CTL2, fromOne));
    await writeRepo(
      box.transport,
      CTL2_KEYS,
      repository(parseKeySecret(FERNET_SECRET, secrets[FERNET_SECRET] ?? ""), FERNET_MAX_ACTIVE_KEYS),
    );
  }, 300_000);

  it("rotate-keys: refused while a controller is unreachable; then old tokens stay valid on both; an interrupted rotation is finished", async () => {
    const targets: KeyTarget[] = [
      { name: "ctl1", transport: box.transport, dir: FERNET_DIR },
      { name: "ctl2", transport: box.transport, dir: CTL2_KEYS },
    ];
    const saved: KeyState[] = [];
    const io = { save: async (s: KeyState) => void saved.push(s), log: () => {} };
    let state = parseKeySecret(FERNET_SECRET, secrets[FERNET_SECRET] ?? "");
    const old = await adminToken(CTL1);

    const gone = { name: "ctl3", transport: new NsenterTransport("ctl3", 2 ** 30), dir: FERNET_DIR };
    await expect(rotateFernet([...targets, gone], state, io)).rejects.toMatchObject({
      code: "E_KEYSTONE_ROTATE",
    });
    expect(saved).toEqual([]);
    expect([...(await readRepo(box.transport, FERNET_DIR)).files.keys()].sort()).toEqual(["0", "1"]);

    const rotated = await rotateFernet(targets, state, io);
    expect(rotated).toMatchObject({ outcome: "rotated", from: 1, to: 2, changed: ["ctl1", "ctl2"] });
    expect(saved).toEqual([{ seed: state.seed, generation: 2 }]);
    state = { seed: state.seed, generation: 2 };
    // ctl2 has no cache: it decrypts the old token with the key that is now a secondary.
    for (const url of [CTL1, CTL2]) expect(await validateToken(exec, url, old)).toBe(200);
    const fresh = await adminToken(CTL2);
    expect(await validateToken(exec, CTL1, fresh)).toBe(200);

    // ctl1 got generation 3, ctl2 did not (a rotation cut short after the secrets file said 3).
    const three = { seed: state.seed, generation: 3 };
    await writeRepo(box.transport, FERNET_DIR, repository(three, FERNET_MAX_ACTIVE_KEYS));
    const newer = await adminToken(CTL1);
    const finished = await rotateFernet(targets, three, io);
    expect(finished).toMatchObject({ outcome: "completed", from: 3, to: 3, changed: ["ctl2"] });
    expect(saved).toHaveLength(1);
    for (const url of [CTL1, CTL2])
      for (const token of [old, fresh, newer]) expect(await validateToken(exec, url, token)).toBe(200);
    // The deploy's keys step agrees with what the rotation left (the secrets file at generation 3).
    const values = { ...secrets, [FERNET_SECRET]: `${state.seed}:3` };
    expect(await run("keys", values)).toMatchObject({ before: true, applied: false });
    // An older secrets file is refused rather than taking keys back.
    await expect(run("keys")).rejects.toMatchObject({ code: "E_KEYSTONE_KEYS" });
  }, 600_000);
});
