/**
 * @module
 * nova.conf by role: what every Nova host shares (placement, neutron and service-user auth, VNC
 * on the management address), the controllers' APIs, conductor and scheduler, and the computes'
 * libvirt driver with instance disks in the Ceph `vms` pool; plus libvirt's qemu.conf for
 * computes that are containers (the lab).
 */
import type { ConfigDoc, DocEntry, DocSection } from "../../formats/doc.ts";
import type { ResolvedHost } from "../../topology/types.ts";
import { clientKeyring } from "../ceph/layout.ts";
import type { PoolName } from "../ceph/settings.ts";
import { serviceAuth } from "../openstack/oslo.ts";
import { workers } from "../openstack/wsgi.ts";
import type { RenderContext } from "../types.ts";
import { novaSettings, rbdSecretUuid } from "./settings.ts";

const INTERNAL: DocEntry = ["valid_interfaces", "internal"];
export const VMS_POOL: PoolName = "vms";
export const NOVA_KEYRING = clientKeyring("nova");
export const QEMU_CONF = "/etc/libvirt/qemu.conf";
/** Debian's hypervisor flavour file, which nova-compute may read after nova.conf. */
export const NOVA_COMPUTE_CONF = "/etc/nova/nova-compute.conf";

/** What nova.conf says on every host that runs a part of Nova. */
export function commonSections(ctx: RenderContext, host: ResolvedHost): DocSection[] {
  const vnc = ctx.topology.endpoints["nova-novncproxy"];
  return [
    {
      name: "DEFAULT",
      entries: [
        ["my_ip", host.ip],
        // Nova's default is its Python package directory: nova-compute then dies writing its
        // node identity (compute_id) there, as measured on the lab. Debian's own file sets this.
        ["state_path", "/var/lib/nova"],
      ],
    },
    serviceAuth(ctx, "placement", "nova", [INTERNAL]),
    serviceAuth(ctx, "neutron", "nova", [INTERNAL]),
    // Service tokens on calls to other APIs (required since the 2023 volume-detach advisory).
    serviceAuth(ctx, "service_user", "nova", [["send_service_user_token", "true"]]),
    { name: "glance", entries: [INTERNAL] },
    ...cinderSection(ctx),
    {
      name: "vnc",
      entries: [
        ["enabled", "true"],
        ["server_listen", host.ip],
        ["server_proxyclient_address", host.ip],
        ...(vnc ? ([["novncproxy_base_url", vnc.public]] as DocEntry[]) : []),
      ],
    },
  ];
}

/**
 * With Cinder: its internal endpoint (the default is the public one) and the nova user for the
 * calls Nova makes without a user's token. Without Cinder, no section: nothing to call.
 */
function cinderSection(ctx: RenderContext): DocSection[] {
  if (!ctx.topology.endpoints.cinder) return [];
  return [
    serviceAuth(ctx, "cinder", "nova", [
      ["catalog_info", "volumev3::internalURL"],
      ["os_region_name", ctx.topology.openstack.region],
    ]),
  ];
}

/** Controllers: the APIs bind the management address; the metadata secret is shared with Neutron. */
export function controllerSections(ctx: RenderContext, host: ResolvedHost): DocSection[] {
  const port = (id: string) => String(ctx.topology.endpoints[id]?.port ?? 0);
  return [
    ...commonSections(ctx, host),
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
    // As many as the APIs' uwsgi processes: each worker holds its own database and AMQP pools, and
    // the default (one per CPU) on a large controller multiplies Galera's connections.
    { name: "conductor", entries: [["workers", String(workers(ctx.topology, 2))]] },
    {
      name: "scheduler",
      entries: [
        ["workers", String(workers(ctx.topology, 2))],
        // Hosts are discovered by one explicit step, not by every scheduler racing (runbook E8).
        ["discover_hosts_in_cells_interval", "-1"],
      ],
    },
    // HAProxy in front: the scheme and client address of a request come from X-Forwarded-*.
    { name: "oslo_middleware", entries: [["enable_proxy_headers_parsing", "true"]] },
  ];
}

/**
 * The hypervisor: libvirt, guests' disks as RBD images in the `vms` pool (copy-on-write clones of
 * Glance's images in the same cluster), attached by QEMU with client.nova's key from the libvirt
 * secret `rbd_secret_uuid` (compute-steps.ts defines it); nova-compute itself handles the images
 * through librbd as client.nova with the keyring the Ceph service wrote.
 */
export function hypervisorSections(ctx: RenderContext): DocSection[] {
  const ratio = novaSettings(ctx.topology).cpu_allocation_ratio;
  return [
    {
      name: "DEFAULT",
      entries: [
        ["compute_driver", "libvirt.LibvirtDriver"],
        ...(ratio === undefined ? [] : [["cpu_allocation_ratio", String(ratio)] as [string, string]]),
      ],
    },
    {
      name: "libvirt",
      entries: [
        ["virt_type", novaSettings(ctx.topology).virt_type],
        ["images_type", "rbd"],
        ["images_rbd_pool", VMS_POOL],
        ["images_rbd_ceph_conf", "/etc/ceph/ceph.conf"],
        ["rbd_user", "nova"],
        ["rbd_secret_uuid", rbdSecretUuid(ctx.topology)],
      ],
    },
  ];
}

/** Computes: the same brokers (never the VIP: runbook E6), no database credentials. */
export function computeSections(ctx: RenderContext, host: ResolvedHost): DocSection[] {
  return [
    ...commonSections(ctx, host),
    ...hypervisorSections(ctx),
    // os-vif plugs a guest's tap into br-int through OVSDB, as nova-compute's user: the unix
    // socket is root's (0750), so the chassis step makes ovsdb-server listen on loopback TCP
    // (neutron/chassis.ts OVSDB_LOCAL_MANAGER). Before it every boot failed on the lab with
    // "Could not retrieve schema from tcp:127.0.0.1:6640", and from the socket too.
    { name: "os_vif_ovs", entries: [["ovsdb_connection", "tcp:127.0.0.1:6640"]] },
  ];
}

/**
 * Debian's nova-compute-kvm/-qemu flavours own /etc/nova/nova-compute.conf with their own
 * virt_type, which nova-compute may read after nova.conf: hastack writes the same hypervisor
 * sections there, so whichever file is read last, the inventory's virt_type is the one in force.
 */
export function novaComputeConf(ctx: RenderContext, host: ResolvedHost): ConfigDoc {
  return {
    format: "ini",
    header: [
      `Rendered by hastack for ${host.name}: the same [DEFAULT] driver and [libvirt] sections as nova.conf.`,
    ],
    sections: hypervisorSections(ctx),
  };
}

/**
 * libvirt's QEMU driver in a container (the lab's computes, measured in the lab feasibility
 * notes): no SELinux/AppArmor labels, no private /dev per guest, no cgroup controllers it may not
 * write, QEMU as root on files it must not chown. Real hosts get no file: libvirt's defaults.
 */
export function qemuConf(): ConfigDoc {
  return {
    format: "keyvalue",
    header: [
      "Rendered by hastack: libvirt's QEMU driver inside a container (services.nova.libvirt_in_container).",
    ],
    sections: [
      {
        name: "",
        entries: [
          ["security_driver", '"none"'],
          ["namespaces", "[]"],
          ["cgroup_controllers", "[]"],
          ["user", '"root"'],
          ["group", '"root"'],
          ["dynamic_ownership", "0"],
        ],
      },
    ],
  };
}
