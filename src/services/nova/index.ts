import type { DocSection } from "../../formats/doc.ts";
import type { ResolvedHost } from "../../topology/types.ts";
import { serviceAuth } from "../openstack/oslo.ts";
import { openstackService } from "../openstack/service.ts";
import type { RenderContext } from "../types.ts";

const INTERNAL: [string, string] = ["valid_interfaces", "internal"];

/** What nova.conf says on every host that runs a part of Nova. */
function common(ctx: RenderContext, host: ResolvedHost): DocSection[] {
  const vnc = ctx.topology.endpoints["nova-novncproxy"];
  return [
    { name: "DEFAULT", entries: [["my_ip", host.ip]] },
    serviceAuth(ctx, "placement", "nova", [INTERNAL]),
    serviceAuth(ctx, "neutron", "nova", [INTERNAL]),
    // Service tokens on calls to other APIs (required since the 2023 volume-detach advisory).
    serviceAuth(ctx, "service_user", "nova", [["send_service_user_token", "true"]]),
    { name: "glance", entries: [INTERNAL] },
    {
      name: "vnc",
      entries: [
        ["enabled", "true"],
        ["server_listen", host.ip],
        ["server_proxyclient_address", host.ip],
        ...(vnc ? ([["novncproxy_base_url", vnc.public]] as [string, string][]) : []),
      ],
    },
  ];
}

/** Controllers: the APIs bind the management address; the metadata secret is shared with Neutron. */
function controller(ctx: RenderContext, host: ResolvedHost): DocSection[] {
  const port = (id: string) => String(ctx.topology.endpoints[id]?.port ?? 0);
  return [
    ...common(ctx, host),
    { name: "api", entries: [["auth_strategy", "keystone"]] },
    {
      name: "vnc",
      entries: [
        ["novncproxy_host", host.ip],
        ["novncproxy_port", port("nova-novncproxy")],
      ],
    },
    {
      name: "neutron",
      entries: [
        ["service_metadata_proxy", "true"],
        ["metadata_proxy_shared_secret", ctx.secret("metadata_proxy_secret")],
      ],
    },
    // Hosts are discovered by an explicit step, not by every scheduler racing (runbook E8).
    { name: "scheduler", entries: [["discover_hosts_in_cells_interval", "-1"]] },
  ];
}

export const nova = openstackService({
  id: "nova",
  title: "Nova compute API, metadata API, noVNC proxy and compute",
  state: "declared",
  requires: ["keystone", "glance", "placement", "neutron"],
  after: ["placement", "glance", "neutron"],
  endpoints: [
    { id: "nova", port: 8774, path: "/v2.1" },
    { id: "nova-metadata", port: 8775, path: "" },
    { id: "nova-novncproxy", port: 6080, path: "/vnc_lite.html" },
  ],
  listeners: [
    { endpoint: "nova", name: "nova_api", check: { kind: "http", path: "/" } },
    { endpoint: "nova-metadata", name: "nova_metadata", check: { kind: "http", path: "/" } },
    {
      endpoint: "nova-novncproxy",
      name: "nova_novncproxy",
      check: { kind: "http", path: "/vnc_lite.html" },
      // A console is a long websocket to one proxy: keep a client on the backend it started on.
      sticky: true,
      timeouts: { client_s: 3600, server_s: 3600 },
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
      units: [
        "libvirtd.service",
        "libvirtd.socket",
        "libvirtd-ro.socket",
        "libvirtd-admin.socket",
        "virtlogd.service",
        "virtlogd.socket",
        "virtlogd-admin.socket",
      ],
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
      own: controller,
      restart: ["nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy"],
    },
    {
      // Computes: the same brokers (never the VIP: runbook E6), no database credentials.
      path: "/etc/nova/nova.conf",
      owner: "nova",
      group: "nova",
      roles: ["compute"],
      sections: ["oslo_messaging_rabbit", "oslo_concurrency"],
      own: common,
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
    },
    {
      kind: "uwsgi",
      unit: "nova-api-metadata",
      defaults: "nova-api-metadata",
      endpoint: "nova-metadata",
      ini: "/etc/nova/nova-api-metadata-uwsgi.ini",
      processes: 1,
      threads: 8,
    },
  ],
  // Debian's nova-novncproxy starts only when this file picks noVNC among the console proxies.
  files: (_ctx, host) =>
    host.controllerIndex > 0
      ? [
          {
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
          },
        ]
      : [],
  steps: [
    { id: "db-sync", title: "nova-manage api_db sync; db sync", on: "bootstrap", after: ["database"] },
    { id: "cells", title: "Map cell0 and cell1 (nova-manage cell_v2)", on: "bootstrap", after: ["db-sync"] },
    {
      id: "start",
      title: "Start the Nova services; wait until HAProxy sees every backend up",
      on: "each",
      after: ["cells"],
    },
    {
      id: "discover-hosts",
      title: "nova-manage cell_v2 discover_hosts; nova-status upgrade check must pass (runbook E9)",
      on: "bootstrap",
      after: ["start"],
    },
  ],
});
