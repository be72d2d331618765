import { z } from "zod";
import type { Topology } from "../../topology/types.ts";
import type { Problem } from "../../util/errors.ts";
import { uuidFromSeed } from "../../util/uuid.ts";
import type { InventoryView } from "../types.ts";

export const MON_V2_PORT = 3300;
export const MON_V1_PORT = 6789;
/** The pools OpenStack uses, named as in the book and Kolla-Ansible's defaults. */
export const POOLS = ["images", "volumes", "vms", "backups"] as const;
export type PoolName = (typeof POOLS)[number];

export const CephSettings = z.strictObject({
  fsid: z
    .uuid()
    .optional()
    .describe("cluster id; default: derived from the cluster name and domain (stable across runs)"),
  mons: z
    .enum(["storage", "controller"])
    .default("storage")
    .describe("where monitors and managers run: storage hosts keep Ceph's quorum out of controller drills"),
  failure_domain: z
    .enum(["host", "osd"])
    .default("host")
    .describe("CRUSH bucket type replicas are spread over (host: no two copies on one host)"),
  pools: z
    .strictObject({
      size: z.int().min(1).max(10).default(3).describe("replicas of every object"),
      min_size: z.int().min(1).max(10).default(2).describe("replicas needed to serve I/O"),
      pg_num: z.int().min(1).max(65536).default(32).describe("PGs per pool (a power of two); autoscale off"),
    })
    .prefault({}),
  osd_devices: z
    .record(z.string(), z.array(z.string().regex(/^\/dev\/\S+$/)).min(1))
    .default({})
    .describe("per storage host, whole devices for BlueStore OSDs (ceph-volume lvm); they are wiped"),
  osd_file: z
    .strictObject({
      path: z
        .string()
        .regex(/^\/\S+$/)
        .default("/var/lib/ceph/disk/osd-block"),
      size_gb: z.int().min(1).default(8),
    })
    .optional()
    .describe("lab: one BlueStore OSD per storage host on a plain file (no device needed)"),
  heartbeat: z
    .strictObject({
      interval_s: z.int().min(1).default(6).describe("osd_heartbeat_interval"),
      grace_s: z
        .int()
        .min(2)
        .default(20)
        .describe("osd_heartbeat_grace: a silent OSD is marked down after this"),
      // OSDs send their peers' failures to the monitors on this tick. On the lab the mark-down
      // came 5-6 s after both reporters saw the silence, but 1 s here did not shorten it
      // (docs/tuning.md, Ceph): kept as a knob, left at Ceph's default.
      report_interval_s: z
        .int()
        .min(1)
        .default(5)
        .describe("osd_mon_report_interval: how often OSDs report failed peers to the monitors"),
    })
    .prefault({}),
  memory: z
    .strictObject({
      // Ceph silently ignores a target below 896 MiB and uses its 4 GiB default instead.
      osd_target_mb: z.int().min(896).default(4096).describe("osd_memory_target"),
      bluestore_cache_mb: z
        .int()
        .min(16)
        .optional()
        .describe("fixed BlueStore cache (turns cache autotuning off): caps an OSD's memory in small hosts"),
    })
    .prefault({}),
  capacity_warn_ratio: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.75)
    .describe(
      "hastack status warns when an OSD or a pool is this full, before Ceph's nearfull (the book: expand at 75%)",
    ),
  nearfull_ratio: z.number().gt(0).lt(1).default(0.85),
  backfillfull_ratio: z.number().gt(0).lt(1).default(0.9),
  full_ratio: z.number().gt(0).lt(1).default(0.95),
  mon_data_avail_warn: z
    .int()
    .min(1)
    .max(100)
    .default(30)
    .describe("free % of a monitor's disk below which Ceph warns (MON_DISK_LOW)"),
});
export type CephSettings = z.output<typeof CephSettings>;

export function cephSettings(topology: Topology): CephSettings {
  return topology.settings.ceph as CephSettings;
}

/** The cluster id: the inventory's, or a UUID derived from the site's name (stable, no secret). */
export function cephFsid(topology: Topology): string {
  const s = cephSettings(topology);
  if (s.fsid) return s.fsid;
  return uuidFromSeed(`hastack-ceph:${topology.cluster}.${topology.domain}`);
}

/** One OSD a storage host carries: a device (real hosts) or a file (lab). */
export type OsdSpec = { kind: "device"; path: string } | { kind: "file"; path: string; sizeGb: number };

export function osdSpecs(settings: CephSettings, host: string): OsdSpec[] {
  const devices = settings.osd_devices[host];
  if (devices) return devices.map((path) => ({ kind: "device", path }));
  if (settings.osd_file)
    return [{ kind: "file", path: settings.osd_file.path, sizeGb: settings.osd_file.size_gb }];
  return [];
}

/** Ceph is deployed when the site has storage hosts and the inventory says where their OSDs are. */
export function cephConfigured(settings: CephSettings): boolean {
  return settings.osd_file !== undefined || Object.keys(settings.osd_devices).length > 0;
}

function isPowerOfTwo(n: number): boolean {
  return (n & (n - 1)) === 0;
}

type Issue = Omit<Problem, "pos">;

/** Replication that the hosts can hold, OSDs on storage hosts only, sane ratios. */
export function checkCephSettings(inv: InventoryView): Issue[] {
  const s = inv.settings.ceph as CephSettings;
  const at = (...path: (string | number)[]) => ["services", "ceph", ...path];
  const out: Issue[] = [];
  const error = (code: Issue["code"], path: (string | number)[], message: string, hint: string) =>
    out.push({ severity: "error", code, path, message, hint });
  const storage = Object.entries(inv.hosts)
    .filter(([, h]) => h.roles.includes("storage"))
    .map(([name]) => name);
  for (const name of Object.keys(s.osd_devices)) {
    if (!storage.includes(name))
      error(
        "E_CEPH_OSD_HOST",
        at("osd_devices", name),
        `services.ceph.osd_devices.${name}: ${inv.hosts[name] ? `${name} is not a storage host` : `no host ${name}`}`,
        `OSDs run on hosts with role storage: ${storage.join(", ") || "(none)"}`,
      );
  }
  if (!cephConfigured(s) || storage.length === 0) return out;
  const withOsds = storage.filter((h) => osdSpecs(s, h).length > 0);
  for (const h of storage.filter((n) => !withOsds.includes(n)))
    error(
      "E_CEPH_OSD_HOST",
      at("osd_devices"),
      `services.ceph.osd_devices: storage host ${h} has no OSD device`,
      `list its devices (services.ceph.osd_devices.${h}: [/dev/sdb]) or set services.ceph.osd_file`,
    );
  const domains =
    s.failure_domain === "host" ? withOsds.length : withOsds.reduce((n, h) => n + osdSpecs(s, h).length, 0);
  if (s.pools.size > domains)
    error(
      "E_CEPH_REPLICAS",
      at("pools", "size"),
      `services.ceph.pools.size ${s.pools.size} is more than the ${domains} ${s.failure_domain}(s) with OSDs: PGs could never be active+clean`,
      `lower size, add storage hosts, or use failure_domain osd (copies may then share a host)`,
    );
  if (s.pools.min_size > s.pools.size)
    error(
      "E_CEPH_REPLICAS",
      at("pools", "min_size"),
      `services.ceph.pools.min_size ${s.pools.min_size} is more than size ${s.pools.size}: no pool could ever serve I/O`,
      "min_size 2 with size 3 keeps I/O going with one copy lost",
    );
  if (!isPowerOfTwo(s.pools.pg_num))
    error(
      "E_CEPH_PG_NUM",
      at("pools", "pg_num"),
      `services.ceph.pools.pg_num ${s.pools.pg_num} is not a power of two: PGs would hold uneven shares of data`,
      "the book's rule: OSDs x 100 / size, rounded to a power of two",
    );
  if (!(s.nearfull_ratio < s.backfillfull_ratio && s.backfillfull_ratio < s.full_ratio))
    error(
      "E_CEPH_RATIOS",
      at(s.full_ratio <= s.backfillfull_ratio ? "full_ratio" : "nearfull_ratio"),
      `services.ceph: nearfull_ratio ${s.nearfull_ratio} < backfillfull_ratio ${s.backfillfull_ratio} < full_ratio ${s.full_ratio} does not hold`,
      "the warning must come before backfill stops, and both before writes stop (the book: 0.75/0.85 in production)",
    );
  if (s.capacity_warn_ratio >= s.nearfull_ratio)
    error(
      "E_CEPH_RATIOS",
      at("capacity_warn_ratio"),
      `services.ceph.capacity_warn_ratio ${s.capacity_warn_ratio} is not below nearfull_ratio ${s.nearfull_ratio}: the early warning would come after Ceph's own`,
      "leave room to add disks before nearfull: 0.75 with nearfull 0.85",
    );
  const mons =
    s.mons === "storage"
      ? storage
      : Object.entries(inv.hosts).filter(([, h]) => h.roles.includes("controller"));
  if (mons.length % 2 === 0)
    error(
      "E_CEPH_MONS",
      at("mons"),
      `services.ceph.mons: ${mons.length} monitors on the ${s.mons} hosts is an even count: a split in half leaves no quorum`,
      "use an odd number of hosts of that role (3 or 5), or put the monitors on the other role",
    );
  return out;
}
