import YAML from "yaml";
import type { InventoryInput } from "../inventory/schema.ts";
import {
  BMC_PORT,
  BMC_USER,
  LAB_CLUSTER,
  LAB_INTERNAL_VIP,
  LAB_NETWORKS,
  LAB_PUBLIC_VIP,
  type LabHost,
  type LabNetwork,
  type LabPlan,
} from "./plan.ts";

const ROLE_NAMES = { controller: "controller", compute: "compute", storage: "storage" } as const;

export function bmcSecretName(host: string): string {
  return `bmc_${host.replaceAll("-", "_")}`;
}

/** The lab's inventory: SSH paths are relative to the inventory file, which lives in the lab dir. */
export function labInventory(plan: LabPlan, options: { cloud?: boolean } = {}): InventoryInput {
  const hosts: InventoryInput["hosts"] = {};
  for (const host of plan.hosts) hosts[host.name] = inventoryHost(host);
  const networks: InventoryInput["networks"] = {
    management: { cidr: cidr("management") },
    storage: { cidr: cidr("storage") },
    provider: { cidr: cidr("provider") },
    bmc: { cidr: cidr("bmc") },
  };
  return {
    cluster: LAB_CLUSTER,
    release: "2025.1",
    platform: "debian-13",
    networks,
    vips: { internal: LAB_INTERNAL_VIP, public: LAB_PUBLIC_VIP },
    vip_manager: "pacemaker",
    // The public endpoints over TLS with a certificate from the lab's own site CA, as a site
    // without a certificate of its own would run; the openrc files carry the CA.
    tls: { public: "site-ca" },
    ssh: { user: "root", key: "./id_ed25519", known_hosts: "./known_hosts" },
    // A lab host's open-files limit is capped at 20000 (the container's pid 1); HAProxy needs
    // about 2 x maxconn descriptors and refuses to start with the default 40000.
    services: {
      haproxy: { maxconn: 4096 },
      // One BlueStore OSD per storage host on a file (no block devices in a container); failure
      // detection and OSD memory tuned as measured in the Ceph lab notes (14 s stall, ~400 MiB OSDs).
      ceph: {
        osd_file: { path: "/var/lib/ceph/disk/osd-block", size_gb: 8 },
        heartbeat: { interval_s: 2, grace_s: 10 },
        memory: { osd_target_mb: 896, bluestore_cache_mb: 128 },
        // The lab's disk is shared with images and overlays: only 27% of it was free, and every
        // monitor then warns MON_DISK_LOW at the default 30%.
        mon_data_avail_warn: 10,
      },
      // Nova and Neutron are in the whole cloud `npm run lab` deploys (`lab up --cloud`), and in
      // the copy the smoke e2e deploys last; the default site the other e2e files deploy leaves
      // them out, as their failover budgets were measured without them on 2 cores. Their
      // settings below are the lab's all the same, for an inventory that lists them.
      openstack: {
        enabled: [
          "keystone",
          "placement",
          "glance",
          "cinder",
          "horizon",
          ...(options.cloud ? ["nova", "neutron"] : []),
        ],
        // One process per API and RPC service: the lab's controllers share 2 cores with the rest
        // of the site, and starting two of each (nova.start: 30 Python interpreters on three
        // controllers) was the longest part of a deploy's critical path (163-167 s).
        workers: 1,
      },
      // No usable /dev/kvm in a lab host (a PVM nested hypervisor): guests are emulated (TCG), and
      // libvirt runs in a container (qemu.conf without security driver, namespaces or cgroups).
      // TCG guests that mostly idle: 16 vCPUs per CPU lets a drill's 10 VMs fit on one compute.
      nova: { virt_type: "qemu", libvirt_in_container: true, cpu_allocation_ratio: 16 },
      // No openvswitch or geneve module in the lab's kernel: OVS runs its userspace datapath
      // (lab-feasibility-compute-vms-ovn).
      neutron: { datapath: "userspace" },
    },
    hosts,
  };
}

function inventoryHost(host: LabHost): InventoryInput["hosts"][string] {
  // The BMC network is the lab's plumbing for fencing, not a host address deploy should configure
  // services on, but controllers do have an address there and the inventory says so.
  const addresses: Partial<Record<LabNetwork, string>> = { ...host.addresses };
  const interfaces: Partial<Record<LabNetwork, string>> = {};
  for (const net of host.networks) interfaces[net] = LAB_NETWORKS[net].nic;
  return {
    roles: [ROLE_NAMES[host.role]],
    addresses,
    interfaces,
    bmc: {
      address: host.bmcAddress,
      port: BMC_PORT,
      user: BMC_USER,
      password_secret: bmcSecretName(host.name),
    },
  };
}

function cidr(net: LabNetwork): string {
  return `${LAB_NETWORKS[net].prefix}.0/24`;
}

export function renderInventory(plan: LabPlan, options: { cloud?: boolean } = {}): string {
  const header = [
    `# Written by \`hastack lab up${options.cloud ? " --cloud" : ""}\` for the lab on this machine; \`lab up\` rewrites it.`,
    "# Secrets (BMC passwords) are in inventory.secrets.yaml beside this file.",
  ].join("\n");
  return `${header}\n${YAML.stringify(labInventory(plan, options))}`;
}

/** /etc/hosts for every lab host: every host by name on the management network. */
export function renderEtcHosts(plan: LabPlan): string {
  const lines = ["127.0.0.1\tlocalhost", "::1\t\tlocalhost ip6-localhost ip6-loopback"];
  lines.push(`${LAB_NETWORKS.management.prefix}.1\tlabhost`);
  for (const host of plan.hosts)
    lines.push(`${host.addresses.management}\t${host.name}.cluster.local ${host.name}`);
  return `${lines.join("\n")}\n`;
}
