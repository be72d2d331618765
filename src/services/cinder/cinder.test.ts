import { describe, expect, it } from "vitest";
import { sharedAnswers } from "../../health/shared.ts";
import type { ProbeContext, ProbeSpec } from "../../health/types.ts";
import { secretPlaceholder as ph } from "../../inventory/secrets.ts";
import { exampleTopology, renderedFile, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { volumeSecretUuid } from "../ceph/layout.ts";
import type { OsService } from "../openstack/os-services.ts";
import { parseIni, recordingTransport, runStep } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { cinder } from "./index.ts";
import { judgeOsServices, notUp } from "./services.ts";

const registry = withOpenStackImplemented(services);
const topology = exampleTopology("lab", undefined, registry);
const CONF = "/etc/cinder/cinder.conf";

function probe(id: string): ProbeSpec {
  const found = cinder.health?.(topology, registry).find((p) => p.id === id);
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

describe("cinder.conf", () => {
  it("serves one RBD backend as a cluster with etcd locks, backups to Ceph, Glance and Nova on internal endpoints", () => {
    const file = renderedFile(topology, "ctl3", CONF, registry);
    expect([file.owner, file.group, file.mode]).toEqual(["cinder", "cinder", 0o640]);
    const ini = parseIni(file.text);
    expect(ini.DEFAULT).toMatchObject({
      my_ip: "10.20.0.13",
      cluster: `${topology.cluster}-volume`,
      enabled_backends: "rbd",
      glance_catalog_info: "image:glance:internalURL",
      backup_driver: "cinder.backup.drivers.ceph.CephBackupDriver",
      backup_ceph_user: "cinder",
      backup_ceph_pool: "backups",
    });
    // Debian's file sets these to a local LVM backend and a Glance on 127.0.0.1: never rendered.
    expect(ini.DEFAULT?.glance_api_servers).toBeUndefined();
    expect(ini.lvm).toBeUndefined();
    expect(ini.rbd).toMatchObject({
      volume_driver: "cinder.volume.drivers.rbd.RBDDriver",
      volume_backend_name: "rbd",
      rbd_pool: "volumes",
      rbd_user: "cinder",
      rbd_secret_uuid: volumeSecretUuid(topology),
    });
    expect(ini.coordination?.backend_url).toBe("etcd3+http://10.20.0.13:2379");
    expect(ini.keystone_authtoken).toMatchObject({ username: "cinder", password: ph("svc_cinder") });
    expect(ini.nova).toMatchObject({ username: "cinder", interface: "internal" });
    expect(ini.service_user).toMatchObject({ username: "cinder", send_service_user_token: "true" });
    expect(ini.database?.connection).toContain("/cinder?charset=utf8mb4");
  });

  it("gives nova.conf the same secret UUID for volumes and its internal endpoint", () => {
    const compute = parseIni(renderedFile(topology, "cmp1", "/etc/nova/nova.conf", registry).text);
    expect(compute.cinder).toMatchObject({ catalog_info: "volumev3::internalURL", username: "nova" });
    const keyring = renderedFile(topology, "ctl1", "/etc/ceph/ceph.client.cinder.keyring", registry);
    expect([keyring.owner, keyring.group, keyring.mode]).toEqual(["root", "cinder", 0o640]);
  });

  it("deploys after Ceph and Glance: database, RabbitMQ, registration, schema, units, then waits for its services", () => {
    expect(cinder.after).toEqual(["keystone", "ceph", "glance"]);
    expect(cinder.steps?.(topology, registry).map((s) => [s.id, s.on])).toEqual([
      ["database", "bootstrap"],
      ["amqp-user", "bootstrap"],
      ["identity", "bootstrap"],
      ["db-sync", "bootstrap"],
      ["start", "each"],
      ["services-up", "bootstrap"],
    ]);
  });
});

describe("Cinder's services", () => {
  const up = (binary: string, host: string): OsService => ({
    binary,
    host,
    status: "enabled",
    state: "up",
  });
  const all = ["ctl1", "ctl2", "ctl3"].flatMap((h) => [
    up("cinder-scheduler", h),
    up("cinder-volume", `${h}.cluster.local@rbd`),
    up("cinder-backup", h),
  ]);

  it("is ok when every binary is up on every controller (volume hosts as host@backend, FQDNs too)", () => {
    expect(notUp(topology, all)).toEqual([]);
    expect(judgeOsServices(topology, all)).toMatchObject({
      state: "ok",
      summary: "cinder-scheduler 3/3, cinder-volume 3/3, cinder-backup 3/3 up",
    });
  });

  it("is degraded with one down, down when a binary is up nowhere, and a volume of another backend does not count", () => {
    const oneDown = all.map((s) =>
      s.host === "ctl2" && s.binary === "cinder-backup" ? { ...s, state: "down" } : s,
    );
    expect(judgeOsServices(topology, oneDown)).toMatchObject({
      state: "degraded",
      summary: expect.stringContaining("not up: cinder-backup on ctl2 (down)"),
    });
    const noVolume = all.filter((s) => s.binary !== "cinder-volume");
    expect(judgeOsServices(topology, noVolume).state).toBe("down");
    const lvm = all.map((s) =>
      s.binary === "cinder-volume" ? { ...s, host: s.host.replace("@rbd", "@lvm") } : s,
    );
    expect(notUp(topology, lvm)).toHaveLength(3);
  });

  it("asks /os-services through the VIP with a token of the cinder user, the token on stdin only", async () => {
    const login =
      'HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAAtoken\r\n\r\n{"token":{"expires_at":"2026-12-03T11:00:00Z","catalog":[]}}\n--hastack-status--201';
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.endsWith("/v3/auth/tokens")) return { stdout: login };
      if (argv.endsWith("http://10.20.0.10:8776/v3/os-services"))
        return { stdout: `${JSON.stringify({ services: all })}\n--hastack-status--200` };
      return undefined;
    });
    const r = await probe("services").run(probeContext(t));
    expect(r.state).toBe("ok");
    expect(JSON.parse(t.seen[0]?.stdin ?? "{}").auth.identity.password.user).toMatchObject({
      name: "cinder",
      password: "value-of-svc_cinder",
    });
    expect(t.seen.map((s) => s.argv).join(" ")).not.toContain("gAAAAtoken");
  });

  it("waits while HAProxy has not yet checked the new backends (503 through the VIP), then passes", async () => {
    const login =
      'HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAAtoken\r\n\r\n{"token":{"expires_at":"2026-12-03T11:00:00Z","catalog":[]}}\n--hastack-status--201';
    let asked = 0;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.endsWith("/v3/auth/tokens")) return { stdout: login };
      if (!argv.endsWith("/v3/os-services")) return undefined;
      asked++;
      return asked === 1
        ? { stdout: "<html>503 Service Unavailable</html>\n--hastack-status--503" }
        : { stdout: `${JSON.stringify({ services: all })}\n--hastack-status--200` };
    });
    const step = cinder.steps?.(topology, registry).find((s) => s.id === "services-up");
    if (!step) throw new Error("no cinder.services-up");
    const r = await runStep({
      service: "cinder",
      step,
      host: "ctl1",
      topology,
      services: registry,
      transport: t,
      secrets: { svc_cinder: "pw" },
    });
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log[0]).toBe("Cannot GET http://10.20.0.10:8776/v3/os-services on ctl1: HTTP 503");
  });
});
