import type { ConfigDoc } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { controllers } from "../hosts.ts";
import { galeraSettings } from "./settings.ts";

/** Debian 13's galera-4 package installs the provider here. */
export const GALERA_PROVIDER = "/usr/lib/galera/libgalera_smm.so";
export const SST_USER = "galera_sst";

/**
 * /etc/mysql/mariadb.conf.d/60-galera.cnf (replaces Debian's commented-out file). Loaded after
 * 50-server.cnf, so its bind-address wins over Debian's 127.0.0.1.
 */
export function galeraConfig(topology: Topology, host: ResolvedHost, sstPassword: string): ConfigDoc {
  const g = galeraSettings(topology);
  const members = controllers(topology).map((h) => h.ip);
  const providerOptions = [
    `gcache.size=${g.gcache_size_mb}M`,
    `evs.suspect_timeout=PT${g.evs_suspect_timeout_s}S`,
    `evs.inactive_timeout=PT${g.evs_inactive_timeout_s}S`,
  ].join(";");
  return {
    format: "ini",
    header: ["Rendered by hastack: MariaDB Galera node settings."],
    sections: [
      {
        name: "mysqld",
        entries: [
          // The node's own address: HAProxy owns <VIP>:3306 on the same host (never 0.0.0.0).
          ["bind-address", host.ip],
          ["max_connections", String(g.max_connections)],
          ["innodb_buffer_pool_size", `${g.innodb_buffer_pool_mb}M`],
          ["binlog_format", "ROW"],
          ["default_storage_engine", "InnoDB"],
          ["innodb_autoinc_lock_mode", "2"],
          ["skip-name-resolve", "1"],
          // MariaDB 11.6.2+ (Debian 13: 11.8) defaults this to ON: an UPDATE of a row another
          // transaction changed since this one's snapshot fails with 1020 ("Record has changed
          // since last read"), which oslo.db neither retries nor expects. Seen on the lab: Nova's
          // conductor failed a server delete on instance_info_caches (nova bug 2116186); OpenStack
          // is written for REPEATABLE READ's classic locking, where the UPDATE waits and proceeds.
          ["innodb_snapshot_isolation", "OFF"],
        ],
      },
      {
        name: "galera",
        entries: [
          ["wsrep_on", "ON"],
          ["wsrep_provider", GALERA_PROVIDER],
          ["wsrep_cluster_name", topology.cluster],
          ["wsrep_cluster_address", `gcomm://${members.join(",")}`],
          ["wsrep_node_address", host.ip],
          ["wsrep_node_name", host.name],
          // mariabackup does not block the donor the way rsync does (E24); it needs an SST user.
          ["wsrep_sst_method", g.sst_method],
          ...(g.sst_method === "mariabackup"
            ? ([["wsrep_sst_auth", `${SST_USER}:${sstPassword}`]] as [string, string][])
            : []),
          ["wsrep_provider_options", `"${providerOptions}"`],
        ],
      },
    ],
  };
}
