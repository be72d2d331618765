import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { sharedAnswers } from "../../health/shared.ts";
import type { ProbeContext, ProbeSpec } from "../../health/types.ts";
import type { InventoryInput } from "../../inventory/schema.ts";
import { secretPlaceholder as ph } from "../../inventory/secrets.ts";
import { exampleTopology, parseInventory, renderedFile } from "../../testing/fixtures.ts";
import { parseIni, recordingTransport } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import type { InventoryView } from "../types.ts";
import { glance } from "./index.ts";
import { checkGlanceStore } from "./store.ts";

const topology = exampleTopology("lab");
const CONF = "/etc/glance/glance-api.conf";

function probe(id: string): ProbeSpec {
  const found = glance.health?.(topology, services).find((p) => p.id === id);
  if (!found) throw new Error(`no probe ${id}`);
  return found;
}

function probeContext(t: ReturnType<typeof recordingTransport>): ProbeContext {
  return {
    topology,
    host: topology.hosts[0],
    transport: () => t,
    exec: (_host, command, opts) => t.exec(command, opts),
    secret: (name) => `value-of-${name}`,
    signal: new AbortController().signal,
    shared: sharedAnswers(),
  };
}

describe("glance-api.conf", () => {
  it("binds the management address, stores images in the Ceph images pool, multi-store with both reserved stores", () => {
    const file = renderedFile(topology, "ctl2", CONF);
    expect([file.owner, file.group, file.mode]).toEqual(["glance", "glance", 0o640]);
    const ini = parseIni(file.text);
    expect(ini.DEFAULT).toMatchObject({
      bind_host: "10.20.0.12",
      bind_port: "9292",
      worker_self_reference_url: "http://10.20.0.12:9292",
      enabled_backends: "rbd:rbd",
      show_image_direct_url: "true",
    });
    expect(ini.DEFAULT?.transport_url).toMatch(/^rabbit:\/\/glance:/);
    expect(ini.glance_store).toEqual({ default_backend: "rbd" });
    expect(ini.rbd).toEqual({
      rbd_store_pool: "images",
      rbd_store_user: "glance",
      rbd_store_ceph_conf: "/etc/ceph/ceph.conf",
      rbd_store_chunk_size: "8",
    });
    const staging = ini.os_glance_staging_store?.filesystem_store_datadir;
    const tasks = ini.os_glance_tasks_store?.filesystem_store_datadir;
    expect([staging, tasks]).toEqual(["/var/lib/glance/staging/", "/var/lib/glance/tasks_work_dir/"]);
    // No filesystem store of its own: the images live in Ceph only (runbook E10).
    expect(ini.glance_store?.filesystem_store_datadir).toBeUndefined();
    expect(ini.DEFAULT?.enabled_backends).not.toMatch(/file|os_glance_/);
    expect(ini.database?.connection).toBe(
      `mysql+pymysql://glance:${ph("db_glance")}@10.20.0.10:3306/glance?charset=utf8mb4`,
    );
    expect(ini.keystone_authtoken).toMatchObject({ username: "glance", password: ph("svc_glance") });
    expect(ini.paste_deploy).toEqual({ flavor: "keystone" });
    expect(ini.oslo_middleware).toEqual({ enable_proxy_headers_parsing: "true" });
  });

  it("deploys after Ceph and Keystone: its database, RabbitMQ user, registration, schema, then the API", () => {
    expect(glance.after).toEqual(["keystone", "ceph"]);
    expect(glance.steps?.(topology, services).map((s) => [s.id, s.on])).toEqual([
      ["database", "bootstrap"],
      ["amqp-user", "bootstrap"],
      ["identity", "bootstrap"],
      ["db-sync", "bootstrap"],
      ["start", "each"],
    ]);
    const cfg = renderedFile(topology, "ctl1", "/etc/haproxy/haproxy.cfg").text;
    expect(cfg).toContain("listen glance_api");
  });
});

describe("glance requires Ceph", () => {
  const lab = YAML.parse(readFileSync("examples/lab.yaml", "utf8")) as InventoryInput;
  const view = (input: InventoryInput): InventoryView => {
    const inv = parseInventory(input);
    return {
      settings: inv.services,
      hosts: inv.hosts,
      vipManager: inv.vip_manager,
      enabled: inv.services.openstack.enabled,
      waivers: inv.waivers,
    };
  };

  it("is an inventory error at glance's place in services.openstack.enabled when no OSD is configured", () => {
    expect(checkGlanceStore(view(lab))).toEqual([]);
    const noCeph = structuredClone(lab);
    delete (noCeph.services as Record<string, unknown>).ceph;
    noCeph.services = { ...noCeph.services, openstack: { enabled: ["keystone", "placement", "glance"] } };
    expect(checkGlanceStore(view(noCeph))).toEqual([
      expect.objectContaining({
        severity: "error",
        code: "E_SERVICE_DEPENDENCY",
        path: ["services", "openstack", "enabled", 2],
      }),
    ]);
    noCeph.services = { ...noCeph.services, openstack: { enabled: ["keystone", "placement"] } };
    expect(checkGlanceStore(view(noCeph))).toEqual([]);
  });
});

describe("glance's status probes", () => {
  const RBD =
    "runuser -u glance -- timeout 20 rbd -n client.glance -k /etc/ceph/ceph.client.glance.keyring ls images --format json";

  it("lists the images pool as client.glance, run as the glance user, and reads rbd's JSON", async () => {
    const t = recordingTransport("ctl1", (argv) =>
      argv === RBD ? { stdout: '["3f1c","9a2e"]\n' } : undefined,
    );
    const r = await probe("rbd-store").run(probeContext(t));
    expect(r.state).toBe("ok");
    expect(r.summary).toMatch(/^2 image\(s\) in pool images, listed as client\.glance/);
    expect(t.seen.map((s) => s.argv)).toEqual([RBD]);
  });

  it("is down, naming the host and rbd's words, when glance cannot read its key or rbd answers nonsense", async () => {
    const denied = recordingTransport("ctl1", () => ({
      code: 1,
      stderr:
        "2026-12-02T10:00:00.000+0000 7f auth: unable to find a keyring on /etc/ceph/ceph.client.glance.keyring: (13) Permission denied\nrbd: couldn't connect to the cluster!",
    }));
    const r = await probe("rbd-store").run(probeContext(denied));
    expect(r.state).toBe("down");
    expect(r.summary).toMatch(
      /^Cannot run rbd ls images as client\.glance on ctl1: exit code 1: .*Permission denied/,
    );
    const odd = recordingTransport("ctl1", () => ({ stdout: '[{"image":"x"}]' }));
    expect((await probe("rbd-store").run(probeContext(odd))).summary).toMatch(
      /^Cannot read rbd ls images's answer/,
    );
  });

  it("asks /v2/images through the VIP with a token of the glance user, the token on stdin only", async () => {
    const login =
      'HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAAtoken\r\n\r\n{"token":{"expires_at":"2026-12-02T11:00:00Z","catalog":[]}}\n--hastack-status--201';
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.endsWith("/v3/auth/tokens")) return { stdout: login };
      if (argv.endsWith("http://10.20.0.10:9292/v2/images")) return { stdout: "200" };
      return undefined;
    });
    const r = await probe("vip-token").run(probeContext(t));
    expect(r).toMatchObject({
      state: "ok",
      summary: "HTTP 200 from http://10.20.0.10:9292/v2/images with a token",
    });
    const [auth, get] = t.seen;
    expect(JSON.parse(auth?.stdin ?? "{}").auth.identity.password.user).toMatchObject({
      name: "glance",
      password: "value-of-svc_glance",
    });
    expect(get?.stdin).toBe("X-Auth-Token: gAAAAtoken\n");
    expect(t.seen.map((s) => s.argv).join(" ")).not.toContain("gAAAAtoken");
    const refused = recordingTransport("ctl1", (argv) =>
      argv.endsWith("/auth/tokens") ? { stdout: login } : { stdout: "401" },
    );
    expect((await probe("vip-token").run(probeContext(refused))).summary).toBe(
      "HTTP 401 from http://10.20.0.10:9292/v2/images with a token, not 200",
    );
    // A login that timed out once (curl exit 28) and then gave a token: the summary says so.
    let logins = 0;
    const slow = recordingTransport("ctl1", (argv) => {
      if (argv.endsWith("/v3/auth/tokens")) return ++logins === 1 ? { code: 28 } : { stdout: login };
      return { stdout: "200" };
    });
    expect(await probe("vip-token").run(probeContext(slow))).toMatchObject({
      state: "ok",
      summary: "HTTP 200 from http://10.20.0.10:9292/v2/images with a token (token on the second attempt)",
    });
  });
});
