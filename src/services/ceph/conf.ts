import type { ConfigDoc, DocEntry } from "../../formats/doc.ts";
import type { Topology } from "../../topology/types.ts";
import { monAddrVec, monHosts, publicNetwork } from "./layout.ts";
import { cephFsid, cephSettings } from "./settings.ts";

/**
 * /etc/ceph/ceph.conf, the same on every host: daemons and clients find the monitors from it.
 * Options Ceph only reads at creation (pool defaults, initial modules) sit here too, so a fresh
 * cluster and a re-deploy agree.
 */
export function cephConf(topology: Topology): ConfigDoc {
  const s = cephSettings(topology);
  const mons = monHosts(topology);
  const network = topology.networks[publicNetwork(topology)];
  const osd: DocEntry[] = [["osd_memory_target", String(s.memory.osd_target_mb * 1024 * 1024)]];
  if (s.memory.bluestore_cache_mb !== undefined) {
    // Autotuning grows the cache towards osd_memory_target; a fixed cache keeps a small host's
    // OSD near 400 MiB (measured: 629 MiB and rising with autotune).
    osd.push(
      ["bluestore_cache_autotune", "false"],
      ["bluestore_cache_size", String(s.memory.bluestore_cache_mb * 1024 * 1024)],
    );
  }
  return {
    format: "ini",
    header: ["Rendered by hastack: Ceph cluster settings (clients and daemons)."],
    sections: [
      {
        name: "global",
        entries: [
          ["fsid", cephFsid(topology)],
          ["mon_initial_members", mons.map((h) => h.name).join(", ")],
          ["mon_host", mons.map((h) => monAddrVec(topology, h)).join(",")],
          ["public_network", network?.cidr ?? ""],
          ["auth_cluster_required", "cephx"],
          ["auth_service_required", "cephx"],
          ["auth_client_required", "cephx"],
          // Reclaiming a global_id without a ticket is the CVE-2021-20288 hole; every client here is current.
          ["auth_allow_insecure_global_id_reclaim", "false"],
          ["ms_bind_ipv6", "false"],
          ["osd_pool_default_size", String(s.pools.size)],
          ["osd_pool_default_min_size", String(s.pools.min_size)],
          ["osd_pool_default_pg_num", String(s.pools.pg_num)],
          ["osd_pool_default_pgp_num", String(s.pools.pg_num)],
          // Few OSDs: the autoscaler would shrink the pools to a handful of PGs each.
          ["osd_pool_default_pg_autoscale_mode", "off"],
          ["osd_crush_chooseleaf_type", s.failure_domain === "host" ? "1" : "0"],
          // Read by OSDs (how often they ping peers) and by monitors (how long before "down").
          ["osd_heartbeat_interval", String(s.heartbeat.interval_s)],
          ["osd_heartbeat_grace", String(s.heartbeat.grace_s)],
          ["osd_mon_report_interval", String(s.heartbeat.report_interval_s)],
          ["mon_data_avail_warn", String(s.mon_data_avail_warn)],
        ],
      },
      {
        name: "mon",
        entries: [
          // restful loads pyOpenSSL, which fails like bcrypt in 18.2.7's sub-interpreters.
          ["mgr_initial_modules", "iostat nfs"],
          ["mon_allow_pool_delete", "false"],
        ],
      },
      { name: "osd", entries: osd },
    ],
  };
}

/** A keyring: `[entity]` with its key and caps, as ceph-authtool writes one. */
export function keyring(entity: string, key: string, caps: Readonly<Record<string, string>> = {}): ConfigDoc {
  return {
    format: "ini",
    sections: [
      {
        name: entity,
        entries: [["key", key], ...Object.entries(caps).map(([k, v]) => [`caps ${k}`, `"${v}"`] as DocEntry)],
      },
    ],
  };
}
