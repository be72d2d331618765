import { openstackService } from "../openstack/service.ts";
import type { FileSpec } from "../types.ts";
import { computeIsolationStep } from "./compute-isolation.ts";
import {
  computeStartStep,
  discoverStep,
  LIBVIRT_UNITS,
  libvirtSecretStep,
  libvirtStep,
} from "./compute-steps.ts";
import {
  computeSections,
  controllerSections,
  NOVA_COMPUTE_CONF,
  novaComputeConf,
  QEMU_CONF,
  qemuConf,
} from "./config.ts";
import { novaProbes } from "./health.ts";
import { NovaSettings, novaSettings } from "./settings.ts";
import { controlPlaneSteps, onlineMigrationsStep } from "./steps.ts";

/**
 * Nova: the compute and metadata APIs under Debian's uwsgi units (bound to the management address
 * by their /etc/default files), conductor, scheduler and the noVNC proxy on every controller;
 * nova-compute with libvirt on every compute, guests' disks in Ceph's `vms` pool. Schemas and
 * cells once on the bootstrap controller (steps.ts), computes discovered there once they are up
 * (compute-steps.ts).
 *
 * Declared until it has run on the lab; the flip is the one word of `state` below.
 */
/**
 * Nova's APIs under uwsgi without eventlet (supported since 2025.1). Monkey-patched, their AMQP
 * heartbeat is a green thread that nothing runs while a uwsgi worker waits for a request: on the
 * lab RabbitMQ closed every API connection after 30 s ("missed heartbeats from client"), and
 * the next server create or delete stalled on reconnects past HAProxy's timeout (504).
 */
const NATIVE_THREADS = { OS_NOVA_DISABLE_EVENTLET_PATCHING: "true" };

export const nova = openstackService({
  id: "nova",
  title: "Nova compute API, metadata API, noVNC proxy and compute",
  state: "implemented",
  requires: ["keystone", "glance", "placement", "neutron"],
  // After all of Neutron, though Nova's control plane needs nothing of it to start: deployed side
  // by side (nova-compute waiting only for the compute's chassis), the full lab deploy took
  // 1173.6 s instead of 827.4 s (session 17). Both are CPU-bound on the lab's 2 cores, and
  // nova's schema syncs and starts slowed the most (api-db-sync 156 s).
  after: ["placement", "glance", "neutron"],
  settings: { nova: NovaSettings },
  endpoints: [
    { id: "nova", port: 8774, path: "/v2.1" },
    { id: "nova-metadata", port: 8775, path: "" },
    { id: "nova-novncproxy", port: 6080, path: "/vnc_lite.html" },
  ],
  // GET / answers 200 on both APIs (the version index; the metadata version list).
  listeners: [
    { endpoint: "nova", name: "nova_api", check: { kind: "http", path: "/" } },
    // Asked by the metadata agents on the computes only: never on the public VIP.
    { endpoint: "nova-metadata", name: "nova_metadata", check: { kind: "http", path: "/" }, public: false },
    {
      endpoint: "nova-novncproxy",
      name: "nova_novncproxy",
      check: { kind: "http", path: "/vnc_lite.html" },
      // A console is a long websocket to one proxy: keep a client on the backend it started on.
      sticky: true,
      timeouts: { client_s: 3600, server_s: 3600 },
      // websockify forks a Python process per connection, checks included: at the site's 1 s,
      // three HAProxies kept three forks a second on every controller (measured on the lab, load
      // 37). A dead console proxy is found within 20 s instead; consoles are not an API path.
      checkInter_ms: 10_000,
    },
  ],
  components: [
    {
      name: "nova-api",
      role: "controller",
      packages: ["nova-api"],
      units: ["nova-api.service", "nova-api-metadata.service"],
    },
    {
      name: "nova-conductor",
      role: "controller",
      packages: ["nova-conductor"],
      units: ["nova-conductor.service"],
    },
    {
      name: "nova-scheduler",
      role: "controller",
      packages: ["nova-scheduler"],
      units: ["nova-scheduler.service"],
    },
    // Debian's nova-consoleproxy holds the noVNC proxy (it reads /etc/default/nova-consoleproxy).
    {
      name: "nova-novncproxy",
      role: "controller",
      packages: ["nova-consoleproxy"],
      units: ["nova-novncproxy.service"],
    },
    // nova-compute-kvm is Debian's libvirt flavour (QEMU, libvirt, RBD drivers); it also runs
    // virt_type=qemu (TCG), which the lab uses. qemu-block-extra is QEMU's RBD block driver.
    {
      name: "nova-compute",
      role: "compute",
      packages: ["nova-compute", "nova-compute-kvm", "qemu-block-extra", "python3-rbd"],
      units: ["nova-compute.service"],
    },
    // Monolithic libvirtd (what worked in a lab host). Its sockets are listed because enabling
    // libvirtd enables them too (Also=) and it requires virtlogd.socket: none may stay masked.
    // virtlockd and libvirt-guests stay masked: no lock manager, and Nova, not libvirt, decides
    // what happens to guests when a compute stops.
    {
      name: "libvirt",
      role: "compute",
      packages: ["libvirt-daemon-system", "libvirt-daemon-driver-qemu", "libvirt-daemon-driver-storage-rbd"],
      units: LIBVIRT_UNITS,
    },
  ],
  secrets: [
    {
      name: "metadata_proxy_secret",
      kind: "password",
      description: "shared secret of the Nova metadata API and Neutron's metadata agent",
    },
  ],
  database: {
    names: ["nova_api", "nova", "nova_cell0"],
    sections: [
      { section: "api_database", name: "nova_api" },
      { section: "database", name: "nova" },
    ],
  },
  amqp: true,
  identity: { type: "compute", description: "OpenStack Compute", endpoint: "nova" },
  config: [
    {
      path: "/etc/nova/nova.conf",
      owner: "nova",
      group: "nova",
      sections: ["database", "keystone_authtoken", "oslo_messaging_rabbit", "oslo_concurrency", "cache"],
      own: controllerSections,
      restart: ["nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy"],
    },
    {
      // Computes: the same brokers (never the VIP: runbook E6), no database credentials.
      path: "/etc/nova/nova.conf",
      owner: "nova",
      group: "nova",
      roles: ["compute"],
      sections: ["oslo_messaging_rabbit", "oslo_concurrency"],
      own: computeSections,
      restart: ["nova-compute"],
    },
  ],
  wsgi: [
    {
      kind: "uwsgi",
      unit: "nova-api",
      defaults: "nova-api",
      endpoint: "nova",
      ini: "/etc/nova/nova-api-uwsgi.ini",
      processes: 2,
      threads: 8,
      env: NATIVE_THREADS,
    },
    {
      kind: "uwsgi",
      unit: "nova-api-metadata",
      defaults: "nova-api-metadata",
      endpoint: "nova-metadata",
      ini: "/etc/nova/nova-api-metadata-uwsgi.ini",
      processes: 1,
      threads: 8,
      env: NATIVE_THREADS,
    },
  ],
  files: (ctx, host) => {
    const out: FileSpec[] = [];
    // Debian's nova-novncproxy starts only when this file picks noVNC among the console proxies.
    if (host.controllerIndex > 0)
      out.push({
        path: "/etc/default/nova-consoleproxy",
        owner: "root",
        group: "root",
        mode: 0o644,
        content: {
          format: "shell-env",
          header: ["Rendered by hastack: the noVNC console proxy."],
          sections: [{ name: "", entries: [["NOVA_CONSOLE_PROXY_TYPE", "novnc"]] }],
        },
        onChange: { restart: ["nova-novncproxy"] },
      });
    if (host.roles.includes("compute")) {
      out.push({
        path: NOVA_COMPUTE_CONF,
        owner: "root",
        group: "nova",
        mode: 0o640,
        content: novaComputeConf(ctx, host),
        onChange: { restart: ["nova-compute"] },
      });
      if (novaSettings(ctx.topology).libvirt_in_container)
        out.push({
          path: QEMU_CONF,
          owner: "root",
          group: "root",
          mode: 0o600,
          content: qemuConf(),
          onChange: { restart: ["libvirtd"] },
        });
    }
    return out;
  },
  steps: (topology) => {
    const controllers = topology.roles.controller;
    const computes = topology.roles.compute;
    return [
      ...controlPlaneSteps(controllers),
      libvirtStep(computes),
      libvirtSecretStep(computes),
      // A host that is also a controller runs those units itself.
      computeIsolationStep(computes.filter((h) => !controllers.includes(h))),
      computeStartStep(computes),
      discoverStep(computes),
      onlineMigrationsStep,
    ];
  },
  // The service user's own project: an empty list, 200, through HAProxy and keystonemiddleware.
  tokenProbe: { endpoint: "nova", path: "/servers", status: 200 },
  health: novaProbes,
});
