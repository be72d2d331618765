import type { NetworkName } from "../../inventory/schema.ts";
import { hostsWithRole, type ResolvedHost, type Topology } from "../../topology/types.ts";
import { uuidFromSeed } from "../../util/uuid.ts";
import { controllers } from "../hosts.ts";
import {
  cephConfigured,
  cephSettings,
  MON_V1_PORT,
  MON_V2_PORT,
  osdSpecs,
  type PoolName,
} from "./settings.ts";

/**
 * Who runs what: monitors (and a manager beside each), OSD hosts, and the clients that only get
 * ceph.conf and the keyrings of the OpenStack services they run.
 */

/** Ceph's public network: the storage network when the site has one (the book: keep it off management). */
export function publicNetwork(topology: Topology): NetworkName {
  return topology.networks.storage ? "storage" : "management";
}

export function publicAddress(topology: Topology, host: ResolvedHost): string {
  return host.addresses[publicNetwork(topology)] ?? host.ip;
}

export function storageHosts(topology: Topology): ResolvedHost[] {
  return cephConfigured(cephSettings(topology)) ? hostsWithRole(topology, "storage") : [];
}

export function monHosts(topology: Topology): ResolvedHost[] {
  if (storageHosts(topology).length === 0) return [];
  return cephSettings(topology).mons === "storage" ? storageHosts(topology) : controllers(topology);
}

export function osdHosts(topology: Topology): ResolvedHost[] {
  const s = cephSettings(topology);
  return storageHosts(topology).filter((h) => osdSpecs(s, h.name).length > 0);
}

/** Every host that gets ceph.conf: daemons' hosts and every controller and compute (clients). */
export function cephHostNames(topology: Topology): string[] {
  if (storageHosts(topology).length === 0) return [];
  const names = new Set([
    ...monHosts(topology).map((h) => h.name),
    ...osdHosts(topology).map((h) => h.name),
    ...topology.roles.controller,
    ...topology.roles.compute,
  ]);
  return topology.hosts.filter((h) => names.has(h.name)).map((h) => h.name);
}

export function monAddrVec(topology: Topology, host: ResolvedHost): string {
  const ip = publicAddress(topology, host);
  return `[v2:${ip}:${MON_V2_PORT},v1:${ip}:${MON_V1_PORT}]`;
}

export type Access = "rw" | "ro";

/** An OpenStack service's cephx user: its pools, and where its keyring goes when it is enabled. */
export interface CephClient {
  name: "glance" | "cinder" | "nova";
  secret: string;
  role: "controller" | "compute";
  pools: Partial<Record<PoolName, Access>>;
  /**
   * The group of the account its service runs as: the keyring is then root:<group> 0640, which
   * the service reads and no other account does. Without it, root:root 0600. Used only while
   * hastack deploys the client's service (`keyringGroup`): the group comes with its package,
   * which hastack installs only then, and a chown to a group that does not exist fails the Ceph
   * files step.
   */
  group?: string;
}

/**
 * Least privilege per service (`profile rbd` limited to pools): Glance writes images; Cinder
 * writes volumes and backups and clones from images; Nova writes instance disks, attaches
 * volumes, and clones from images. None can touch a pool not listed.
 */
export const CLIENTS: readonly CephClient[] = [
  { name: "glance", secret: "ceph_glance_key", role: "controller", pools: { images: "rw" }, group: "glance" },
  {
    name: "cinder",
    secret: "ceph_cinder_key",
    role: "controller",
    pools: { volumes: "rw", backups: "rw", images: "ro" },
    group: "cinder",
  },
  // nova-compute (user nova) creates, clones, resizes and deletes instance disks through librbd
  // as client.nova, reading this keyring itself; QEMU gets the key from libvirt's secret instead.
  {
    name: "nova",
    secret: "ceph_nova_key",
    role: "compute",
    pools: { vms: "rw", volumes: "rw", images: "ro" },
    group: "nova",
  },
];

/**
 * The instance-HA engine's cephx user (on the controllers): it may read the cluster map and
 * blocklist a fenced compute's addresses, nothing else, and no pool at all. Not `profile rbd`:
 * that mon profile allows only `blocklist add` of one client instance (ip:port/nonce), and a
 * storage fence blocks a whole address and lifts it again when the host is back.
 */
export const FENCE_CLIENT = {
  name: "client.hastack-ha",
  secret: "ceph_hastack_ha_key",
  keyring: "/etc/ceph/ceph.client.hastack-ha.keyring",
  caps: { mon: "allow r, allow command 'osd blocklist'" },
} as const;

/**
 * hastack's own backups (`hastack backup`): RADOS objects in a pool of their own, written from
 * the controllers as this user, which may read the cluster map and read and write that pool,
 * nothing else. Not the `backups` pool: Cinder's key may write there, and Cinder's backups are
 * RBD images an operator lists with `rbd`, not a site's database dumps.
 */
export const BACKUP_CLIENT = {
  name: "client.hastack-backup",
  secret: "ceph_hastack_backup_key",
  keyring: "/etc/ceph/ceph.client.hastack-backup.keyring",
  pool: "hastack-backups",
  /** `ceph osd pool application`: a pool without one makes Ceph warn (POOL_APP_NOT_ENABLED). */
  application: "hastack",
  caps: { mon: "allow r", osd: "allow rw pool=hastack-backups" },
} as const;

/** The keyring's group: the client's own once its service is implemented, root before (see `group`). */
export function keyringGroup(
  client: CephClient,
  services: readonly { id: string; state: string }[],
): string | undefined {
  const deployed = services.some((s) => s.id === client.name && s.state === "implemented");
  return deployed ? client.group : undefined;
}

/** Caps as `ceph auth` stores them (the order Ceph prints them back in). */
export function clientCaps(client: CephClient): Record<"mgr" | "mon" | "osd", string> {
  const entries = Object.entries(client.pools) as [PoolName, Access][];
  const osd = entries.map(([p, a]) => `profile ${a === "rw" ? "rbd" : "rbd-read-only"} pool=${p}`).join(", ");
  const mgr = entries
    .filter(([, a]) => a === "rw")
    .map(([p]) => `profile rbd pool=${p}`)
    .join(", ");
  return { mgr, mon: "profile rbd", osd };
}

/** Where a client's keyring is: the path librados finds by itself for `-n client.<name>`. */
export function clientKeyring(name: CephClient["name"]): string {
  return `/etc/ceph/ceph.client.${name}.keyring`;
}

/** Hosts that hold a client's keyring: those that run its OpenStack service (none while it is off). */
export function clientHosts(topology: Topology, client: CephClient): string[] {
  if (storageHosts(topology).length === 0 || !topology.openstack.enabled.includes(client.name)) return [];
  return topology.roles[client.role];
}

/**
 * The libvirt secret holding client.cinder's key on every compute: Cinder's rbd_secret_uuid,
 * named in each volume's connection info, so every compute must use the same one (a volume
 * moves with its instance). Derived from the site's name like the fsid: a name, not a credential.
 */
export function volumeSecretUuid(topology: Topology): string {
  return uuidFromSeed(`hastack-cinder-rbd:${topology.cluster}.${topology.domain}`);
}

export const ADMIN_CAPS = { mds: "allow *", mgr: "allow *", mon: "allow *", osd: "allow *" };
export const BOOTSTRAP_OSD_CAPS = { mgr: "allow r", mon: "profile bootstrap-osd" };
export const MGR_CAPS = { mds: "allow *", mon: "allow profile mgr", osd: "allow *" };

export const ADMIN_KEYRING = "/etc/ceph/ceph.client.admin.keyring";
export const BOOTSTRAP_OSD_KEYRING = "/var/lib/ceph/bootstrap-osd/ceph.keyring";
