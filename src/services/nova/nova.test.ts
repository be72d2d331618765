import { describe, expect, it } from "vitest";
import { secretPlaceholder as ph } from "../../inventory/secrets.ts";
import { exampleTopology, renderedFile, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { parseIni } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { renderTopology } from "../render.ts";
import { nova } from "./index.ts";
import { rbdSecretUuid } from "./settings.ts";

// Nova is declared until it has run on the lab; a declared service renders nothing, so these
// tests render the site as it will be once it is implemented.
const registry = withOpenStackImplemented(services);
const lab = exampleTopology("lab", undefined, registry);
const real = exampleTopology("runbook-9-node", undefined, registry);
const CONF = "/etc/nova/nova.conf";
const conf = (t = lab, host = "ctl2") => parseIni(renderedFile(t, host, CONF, registry).text);

describe("nova.conf on a controller", () => {
  it("has both databases, the brokers, Keystone, and the APIs' neighbours on the internal VIP", () => {
    const file = renderedFile(lab, "ctl2", CONF, registry);
    expect([file.owner, file.group, file.mode]).toEqual(["nova", "nova", 0o640]);
    const ini = conf();
    expect(ini.api_database?.connection).toBe(
      `mysql+pymysql://nova:${ph("db_nova")}@10.20.0.10:3306/nova_api?charset=utf8mb4`,
    );
    expect(ini.database?.connection).toBe(
      `mysql+pymysql://nova:${ph("db_nova")}@10.20.0.10:3306/nova?charset=utf8mb4`,
    );
    expect(ini.DEFAULT?.transport_url).toMatch(/^rabbit:\/\/nova:.*@ctl1:5672,.*@ctl3:5672\/%2Fopenstack$/);
    expect(ini.DEFAULT?.my_ip).toBe("10.20.0.12");
    expect(ini.keystone_authtoken).toMatchObject({ username: "nova", password: ph("svc_nova") });
    expect(ini.placement).toMatchObject({ username: "nova", valid_interfaces: "internal" });
    expect(ini.service_user).toMatchObject({ send_service_user_token: "true" });
    expect(ini.neutron).toMatchObject({
      service_metadata_proxy: "true",
      metadata_proxy_shared_secret: ph("metadata_proxy_secret"),
    });
    expect(ini.vnc).toMatchObject({
      server_listen: "10.20.0.12",
      novncproxy_host: "10.20.0.12",
      novncproxy_port: "6080",
      // The public VIP, over TLS (examples/lab.yaml: tls.public site-ca): what a browser opens.
      novncproxy_base_url: "https://10.20.0.50:6080/vnc_lite.html",
    });
    // No scheduler discovers hosts on its own (runbook E8): the discover-hosts step does, once.
    expect(ini.scheduler).toEqual({ workers: "2", discover_hosts_in_cells_interval: "-1" });
    expect(ini.oslo_middleware).toEqual({ enable_proxy_headers_parsing: "true" });
    // No hypervisor on a controller.
    expect(ini.libvirt).toBeUndefined();
    expect(ini.DEFAULT?.compute_driver).toBeUndefined();
  });

  it("runs the site's services.openstack.workers processes of every API and RPC service when it sets them", () => {
    const small = exampleTopology(
      "lab",
      (inv) => {
        inv.services = { ...inv.services, openstack: { workers: 1 } };
      },
      registry,
    );
    const args = (t: typeof lab, path: string) => renderedFile(t, "ctl1", path, registry).text;
    for (const path of ["/etc/default/nova-api", "/etc/default/placement-api", "/etc/default/keystone"]) {
      expect(args(lab, path)).toContain("--processes 2 ");
      expect(args(small, path)).toContain("--processes 1 ");
    }
    const ini = parseIni(args(small, "/etc/nova/nova.conf"));
    expect([ini.conductor?.workers, ini.scheduler?.workers]).toEqual(["1", "1"]);
    expect(parseIni(args(small, "/etc/glance/glance-api.conf")).DEFAULT?.workers).toBe("1");
    expect(args(lab, "/etc/apache2/sites-enabled/horizon.conf")).toContain(" processes=2 ");
    expect(args(small, "/etc/apache2/sites-enabled/horizon.conf")).toContain(" processes=1 ");
  });

  it("binds the compute and metadata APIs' uwsgi to the management address; noVNC picked", () => {
    const api = renderedFile(lab, "ctl3", "/etc/default/nova-api", registry).text;
    expect(api).toContain(
      'DAEMON_ARGS="--http-socket 10.20.0.13:8774 --ini /etc/nova/nova-api-uwsgi.ini --processes 2 --threads 8 --env OS_NOVA_DISABLE_EVENTLET_PATCHING=true"',
    );
    const meta = renderedFile(lab, "ctl3", "/etc/default/nova-api-metadata", registry).text;
    expect(meta).toContain("--http-socket 10.20.0.13:8775 --ini /etc/nova/nova-api-metadata-uwsgi.ini");
    // Without eventlet: a green AMQP heartbeat does not run in an idle uwsgi worker.
    expect(meta).toContain("--env OS_NOVA_DISABLE_EVENTLET_PATCHING=true");
    expect(renderedFile(lab, "ctl3", "/etc/default/nova-consoleproxy", registry).text).toContain(
      'NOVA_CONSOLE_PROXY_TYPE="novnc"',
    );
    const haproxy = renderedFile(lab, "ctl1", "/etc/haproxy/haproxy.cfg", registry).text;
    for (const l of ["listen nova_api", "listen nova_metadata", "listen nova_novncproxy"])
      expect(haproxy).toContain(l);
    // The console proxy forks per check: checked every 10 s, the APIs at the site's 1 s.
    const servers = (section: string) =>
      (haproxy.split(/\n(?=listen )/).find((s) => s.startsWith(`listen ${section}\n`)) ?? "")
        .split("\n")
        .filter((l) => l.trim().startsWith("server "));
    expect(servers("nova_novncproxy")).toHaveLength(3);
    for (const l of servers("nova_novncproxy")) expect(l).toContain(" inter 10000ms ");
    expect(servers("nova_api")).toHaveLength(3);
    for (const l of servers("nova_api")) expect(l).toContain(" inter 1000ms ");
  });
});

describe("nova.conf on a compute", () => {
  it("lab: libvirt emulating (qemu), instance disks in Ceph's vms pool as client.nova", () => {
    const ini = conf(lab, "cmp1");
    expect(ini.DEFAULT?.compute_driver).toBe("libvirt.LibvirtDriver");
    expect(ini.libvirt).toEqual({
      virt_type: "qemu",
      images_type: "rbd",
      images_rbd_pool: "vms",
      images_rbd_ceph_conf: "/etc/ceph/ceph.conf",
      rbd_user: "nova",
      rbd_secret_uuid: rbdSecretUuid(lab),
    });
    const ip = lab.hosts.find((h) => h.name === "cmp1")?.ip;
    expect(ini.vnc).toMatchObject({ server_listen: ip, server_proxyclient_address: ip });
    expect(ini.DEFAULT?.transport_url).toMatch(/^rabbit:\/\/nova:/);
    // No database credentials, no Keystone middleware, no metadata secret on a compute.
    expect(ini.database).toBeUndefined();
    expect(ini.api_database).toBeUndefined();
    expect(ini.keystone_authtoken).toBeUndefined();
    expect(ini.neutron?.metadata_proxy_shared_secret).toBeUndefined();
  });

  it("real hosts: kvm, libvirt's own qemu.conf; the same virt_type in Debian's nova-compute.conf", () => {
    const ini = conf(real, "compute01");
    expect(ini.libvirt?.virt_type).toBe("kvm");
    const flavour = parseIni(renderedFile(real, "compute01", "/etc/nova/nova-compute.conf", registry).text);
    expect(flavour).toEqual({ DEFAULT: { compute_driver: "libvirt.LibvirtDriver" }, libvirt: ini.libvirt });
    const files = renderTopology(real, registry, ["compute01"]).files.get("compute01") ?? [];
    expect(files.map((f) => f.path)).not.toContain("/etc/libvirt/qemu.conf");
  });

  it("lab: libvirt's qemu.conf gives up what a container cannot grant", () => {
    const file = renderedFile(lab, "cmp2", "/etc/libvirt/qemu.conf", registry);
    expect([file.owner, file.group, file.mode, file.onChange.restart]).toEqual([
      "root",
      "root",
      0o600,
      ["libvirtd"],
    ]);
    const lines = file.text.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines).toEqual([
      'security_driver = "none"',
      "namespaces = []",
      "cgroup_controllers = []",
      'user = "root"',
      'group = "root"',
      "dynamic_ownership = 0",
    ]);
  });

  it("derives one stable secret UUID per site, unless the inventory names one", () => {
    expect(rbdSecretUuid(lab)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(rbdSecretUuid(exampleTopology("lab", undefined, registry))).toBe(rbdSecretUuid(lab));
    expect(rbdSecretUuid(real)).not.toBe(rbdSecretUuid(lab));
    const named = exampleTopology(
      "lab",
      (inv) => {
        Object.assign(inv.services?.nova as object, {
          rbd_secret_uuid: "457eb676-33da-42ec-9a8c-9293d545c337",
        });
      },
      registry,
    );
    expect(conf(named, "cmp1").libvirt?.rbd_secret_uuid).toBe("457eb676-33da-42ec-9a8c-9293d545c337");
  });

  it("lets the nova group read client.nova's keyring once nova is deployed, root's before", () => {
    const mode = (registryOf: typeof services, t: typeof lab) => {
      const f = renderTopology(t, registryOf, ["cmp1"])
        .files.get("cmp1")
        ?.find((x) => x.path === "/etc/ceph/ceph.client.nova.keyring");
      return f && [f.owner, f.group, f.mode.toString(8)];
    };
    expect(mode(registry, lab)).toEqual(["root", "nova", "640"]);
    const declared = services.map((s) => (s.id === "nova" ? { ...s, state: "declared" as const } : s));
    expect(mode(declared, exampleTopology("lab", undefined, declared))).toEqual(["root", "root", "600"]);
  });
});

describe("nova's steps", () => {
  it("schemas and cells once, APIs on every controller, computes, discovery, then online migrations", () => {
    const steps = nova.steps?.(lab, registry) ?? [];
    expect(steps.map((s) => [s.id, s.on, s.hosts ?? "service"])).toEqual([
      ["database", "bootstrap", "service"],
      ["amqp-user", "bootstrap", "service"],
      ["identity", "bootstrap", "service"],
      ["api-db-sync", "bootstrap", "service"],
      ["cells", "bootstrap", "service"],
      ["db-sync", "bootstrap", "service"],
      ["start", "each", ["ctl1", "ctl2", "ctl3"]],
      ["libvirt", "each", ["cmp1", "cmp2"]],
      ["libvirt-secret", "each", ["cmp1", "cmp2"]],
      ["compute-isolation", "each", ["cmp1", "cmp2"]],
      ["compute-start", "each", ["cmp1", "cmp2"]],
      ["discover-hosts", "bootstrap", "service"],
      ["online-migrations", "bootstrap", "service"],
    ]);
    expect(steps.every((s) => s.check && s.apply)).toBe(true);
  });
});
