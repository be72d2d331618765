import { describe, expect, it } from "vitest";
import { sharedAnswers } from "../../health/shared.ts";
import { secretPlaceholder } from "../../inventory/secrets.ts";
import { exampleTopology, renderedFile, withDeclared } from "../../testing/fixtures.ts";
import { HastackError } from "../../util/errors.ts";
import { parseIni } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { KEYSTONE_CONF, MANAGE_CONF, UWSGI_INI } from "./config.ts";
import {
  deriveKey,
  FERNET_MAX_ACTIVE_KEYS,
  formatKeySecret,
  parseKeySecret,
  primaryOf,
  repository,
} from "./fernet.ts";
import { expectedCatalog, keystoneProbes } from "./health.ts";
import { manage } from "./steps.ts";
import { catalogGaps, login, loginBody, readLogin } from "./token.ts";

const topology = exampleTopology("lab");
const seed = "ab".repeat(32);

describe("keystone's rendered files", () => {
  it("keystone.conf: fernet tokens and credentials, database on the VIP, cache on every memcached, no secret value", () => {
    const file = renderedFile(topology, "ctl2", KEYSTONE_CONF);
    expect([file.owner, file.group, file.mode]).toEqual(["root", "keystone", 0o640]);
    const ini = parseIni(file.text);
    expect(ini.token).toMatchObject({ provider: "fernet", expiration: "3600" });
    expect(ini.fernet_tokens).toEqual({
      key_repository: "/etc/keystone/fernet-keys/",
      max_active_keys: String(FERNET_MAX_ACTIVE_KEYS),
    });
    expect(ini.credential).toMatchObject({
      provider: "fernet",
      key_repository: "/etc/keystone/credential-keys/",
    });
    expect(ini.database?.connection).toBe(
      `mysql+pymysql://keystone:${secretPlaceholder("db_keystone")}@10.20.0.10:3306/keystone?charset=utf8mb4`,
    );
    // The daemon's SQL reads end within 5 s (config.ts: a login held behind a dead connection);
    // keystone-manage reads hastack-manage.conf after keystone.conf, which takes them off.
    expect(ini.database?.connection_parameters).toBe("read_timeout=5&write_timeout=5");
    const manageConf = renderedFile(topology, "ctl2", MANAGE_CONF);
    expect(parseIni(manageConf.text).database).toEqual({ connection_parameters: "" });
    expect(manage(["db_sync"])).toEqual([
      ...["runuser", "-u", "keystone", "--", "keystone-manage"],
      ...["--config-file", KEYSTONE_CONF, "--config-file", MANAGE_CONF, "db_sync"],
    ]);
    expect(ini.cache).toMatchObject({
      enabled: "true",
      backend: "oslo_cache.memcache_pool",
      memcache_servers: "10.20.0.11:11211,10.20.0.12:11211,10.20.0.13:11211",
    });
    expect(file.text).not.toContain("0.0.0.0");
  });

  it("uwsgi: the management address, hastack's ini, which loads no AppArmor plugin or profile", () => {
    const defaults = renderedFile(topology, "ctl2", "/etc/default/keystone").text;
    expect(defaults).toContain(`--http-socket 10.20.0.12:5000 --ini ${UWSGI_INI} `);
    const ini = renderedFile(topology, "ctl2", UWSGI_INI).text;
    expect(ini).toMatch(/^plugins = python3$/m);
    expect(ini).not.toMatch(/^[^#]*apparmor/im);
    expect(ini).toContain("wsgi-file = /usr/bin/keystone-wsgi-public");
    expect(ini).not.toMatch(/socket/);
  });
});

describe("Fernet key repositories from a seed", () => {
  it("are Fernet keys: 32 bytes in URL-safe base64, distinct, the same for the same seed", () => {
    const key = deriveKey(seed, 1);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(key, "base64url")).toHaveLength(32);
    expect(deriveKey(seed, 1)).toBe(key);
    expect(deriveKey(seed, 2)).not.toBe(key);
    expect(deriveKey("cd".repeat(32), 1)).not.toBe(key);
  });

  it("generation g: primary g, staged g+1 at 0, secondaries within the active limit", () => {
    const g1 = repository({ seed, generation: 1 }, FERNET_MAX_ACTIVE_KEYS);
    expect([...g1.keys()].sort()).toEqual(["0", "1"]);
    const g9 = repository({ seed, generation: 9 }, FERNET_MAX_ACTIVE_KEYS);
    expect(g9.size).toBe(FERNET_MAX_ACTIVE_KEYS);
    expect(primaryOf(g9.keys())).toBe(9);
  });

  it("a rotation promotes exactly the key every controller already had staged, and keeps the old primary", () => {
    for (let g = 1; g < 12; g++) {
      const before = repository({ seed, generation: g }, FERNET_MAX_ACTIVE_KEYS);
      const after = repository({ seed, generation: g + 1 }, FERNET_MAX_ACTIVE_KEYS);
      expect(after.get(String(g + 1))).toBe(before.get("0"));
      // A controller still on g encrypts with its primary: one already on g + 1 decrypts it.
      expect(after.get(String(g))).toBe(before.get(String(g)));
      expect(new Set(after.values()).size).toBe(after.size);
    }
  });

  it("the secret: seed, then :generation once rotated; a malformed one is refused without its value", () => {
    expect(parseKeySecret("k", seed)).toEqual({ seed, generation: 1 });
    expect(parseKeySecret("k", `${seed}:7`)).toEqual({ seed, generation: 7 });
    expect(formatKeySecret({ seed, generation: 1 })).toBe(seed);
    expect(formatKeySecret({ seed, generation: 7 })).toBe(`${seed}:7`);
    const bad = "not-a-seed-SECRETVALUE";
    const error = (() => {
      try {
        parseKeySecret("keystone_fernet_keys", bad);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(HastackError);
    expect((error as HastackError).code).toBe("E_KEYSTONE_KEYS");
    expect(String((error as Error).message)).not.toContain("SECRETVALUE");
  });
});

describe("a password login's answer", () => {
  const catalog = [
    {
      name: "keystone",
      type: "identity",
      endpoints: ["public", "internal", "admin"].map((i) => ({
        interface: i,
        region_id: "RegionOne",
        url: "http://10.20.0.10:5000/v3",
      })),
    },
  ];
  it("reads the token from the headers and the catalogue from the body", () => {
    const body = JSON.stringify({ token: { catalog, expires_at: "2026-01-01T00:00:00Z" } });
    const headers = "HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAAB-x_y\r\nContent-Type: application/json";
    const r = readLogin({ code: 0, stdout: `${headers}\r\n\r\n${body}\n--hastack-status--201`, stderr: "" });
    expect(r).toMatchObject({ ok: true, token: "gAAAAB-x_y", catalog });
    // No token header: not a login, whatever the status says.
    expect(
      readLogin({ code: 0, stdout: `HTTP/1.1 201\r\n\r\n${body}\n--hastack-status--201`, stderr: "" }),
    ).toEqual({
      ok: false,
      reason: "HTTP 201 without a token",
    });
    expect(
      readLogin({ code: 0, stdout: 'HTTP/1.1 401\r\n\r\n{"error":{}}\n--hastack-status--401', stderr: "" }),
    ).toEqual({
      ok: false,
      reason: "HTTP 401",
    });
    expect(readLogin({ code: 7, stdout: "", stderr: "curl: (7) Failed to connect" })).toMatchObject({
      ok: false,
    });
  });

  // A scripted exec: the point is how many times login asks for each answer curl gives.
  const answers = (codes: number[]) => {
    const asked: string[] = [];
    const exec = async (command: string[]) => {
      asked.push(command.join(" "));
      const code = codes[asked.length - 1] ?? 0;
      const stdout =
        code === 0
          ? `HTTP/1.1 201\r\nX-Subject-Token: t\r\n\r\n{"token":{"expires_at":"x"}}\n--hastack-status--201`
          : "";
      return { code, stdout, stderr: code ? `curl: (${code}) failed` : "", durationMs: 1 };
    };
    return { asked, exec };
  };

  it("asks once more after a timed-out login (curl exit 28), never after another failure", async () => {
    const creds = {
      authUrl: "http://10.20.0.10:5000/v3",
      user: "glance",
      password: "pw",
      project: "service",
    };
    const slow = answers([28, 0]);
    expect(await login(slow.exec, creds)).toMatchObject({ ok: true, token: "t", attempts: 2 });
    expect(slow.asked).toHaveLength(2);
    const dead = answers([28, 28, 0]);
    expect(await login(dead.exec, creds)).toEqual({
      ok: false,
      reason: "curl exit code 28: curl: (28) failed",
      attempts: 2,
    });
    expect(dead.asked).toHaveLength(2);
    const refused = answers([7, 0]);
    expect(await login(refused.exec, creds)).toMatchObject({ ok: false, attempts: 1 });
    expect(refused.asked).toHaveLength(1);
  });

  it("the token probe says when its login needed a second attempt, and only then", async () => {
    const run = (codes: number[]) => {
      const { exec } = answers(codes);
      const probe = keystoneProbes(topology, services)[0];
      if (!probe) throw new Error("no token probe");
      return probe.run({
        topology,
        host: topology.hosts[0],
        transport: () => {
          throw new Error("the token probe only runs commands");
        },
        exec: (_host, command) => exec(typeof command === "string" ? [command] : command),
        secret: () => "pw",
        signal: new AbortController().signal,
        shared: sharedAnswers(),
      });
    };
    // The scripted token's catalogue is empty: degraded, which names the time all the same.
    expect((await run([28, 0])).summary).toMatch(/^token in \d+ ms \(second attempt\); catalogue lacks /);
    expect((await run([0])).summary).toMatch(/^token in \d+ ms; catalogue lacks /);
    expect((await run([28, 28])).summary).toBe(
      "no token from http://10.20.0.10:5000/v3 (second attempt): curl exit code 28: curl: (28) failed",
    );
  });

  it("names what the catalogue lacks; the body names the user and project, scoped in Default", () => {
    expect(catalogGaps(catalog, ["keystone"], "RegionOne")).toEqual([]);
    expect(catalogGaps(catalog, ["keystone", "glance"], "RegionOne")).toEqual([
      "glance (not in the catalogue)",
    ]);
    expect(catalogGaps(catalog, ["keystone"], "RegionTwo")).toEqual([
      "keystone (no public/internal/admin endpoint in RegionTwo)",
    ]);
    const body = JSON.parse(loginBody({ authUrl: "", user: "admin", password: "pw", project: "admin" }));
    expect(body.auth.scope.project).toEqual({ name: "admin", domain: { name: "Default" } });
  });

  it("expects keystone and every deployed service that registers itself in the catalogue", () => {
    // Glance, Placement, Nova, Neutron and Cinder register themselves; Horizon is a web site,
    // not an API, and a declared service is not in the catalogue.
    expect(expectedCatalog(topology, services)).toEqual([
      "keystone",
      "glance",
      "placement",
      "nova",
      "neutron",
      "cinder",
    ]);
    expect(expectedCatalog(topology, withDeclared(["cinder"]))).not.toContain("cinder");
  });
});
