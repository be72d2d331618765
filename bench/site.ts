import { stringify } from "yaml";

/** Every optional OpenStack service: the bench plans the whole cloud, not a part of it. */
export const WHOLE_CLOUD = ["keystone", "placement", "glance", "nova", "neutron", "cinder", "horizon"];

/**
 * A big site for benchmarks: 3 controllers, `computes` computes and 3 storage hosts, every host
 * on the management, storage and provider networks (/16 each) and with a BMC, the whole cloud
 * enabled and Ceph's OSDs on files (the lab's settings, which every service accepts).
 */
export function bigSiteYaml(computes: number): string {
  const hosts: Record<string, unknown> = {};
  const host = (name: string, roles: string[], n: number, nets: string[]) => {
    // n-th host of the site: 10.2x.<n / 250 + 1>.<n % 250 + 1>, x per network.
    const tail = `${Math.floor(n / 250) + 1}.${(n % 250) + 1}`;
    const addresses: Record<string, string> = {};
    for (const net of nets) addresses[net] = `${NETWORKS[net]}.${tail}`;
    hosts[name] = {
      roles,
      addresses,
      bmc: { address: `10.29.${tail}`, user: "admin", password_secret: `bmc_${name}` },
    };
  };
  let n = 0;
  for (let i = 1; i <= 3; i++) host(`ctl${i}`, ["controller"], n++, ["management", "storage", "provider"]);
  for (let i = 1; i <= 3; i++) host(`sto${i}`, ["storage"], n++, ["management", "storage"]);
  for (let i = 1; i <= computes; i++)
    host(`cmp${i}`, ["compute"], n++, ["management", "storage", "provider"]);
  return stringify({
    cluster: "bench",
    release: "2025.1",
    platform: "debian-13",
    networks: {
      management: { cidr: "10.20.0.0/16" },
      storage: { cidr: "10.21.0.0/16" },
      provider: { cidr: "10.22.0.0/16" },
      bmc: { cidr: "10.29.0.0/16" },
    },
    // .0.10 is outside every host's range (the fourth octet starts at 1 from .1.x on).
    vips: { internal: "10.20.0.10" },
    services: {
      ceph: { osd_file: { path: "/var/lib/ceph/disk/osd-block", size_gb: 8 } },
      openstack: { enabled: WHOLE_CLOUD },
      nova: { virt_type: "kvm" },
      neutron: { datapath: "kernel" },
    },
    hosts,
  });
}

const NETWORKS: Record<string, string> = {
  management: "10.20",
  storage: "10.21",
  provider: "10.22",
};
