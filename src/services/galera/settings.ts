import { z } from "zod";
import type { Topology } from "../../topology/types.ts";
import type { Problem } from "../../util/errors.ts";
import type { InventoryView } from "../types.ts";

export const GaleraSettings = z.strictObject({
  sst_method: z.enum(["mariabackup", "rsync"]).default("mariabackup"),
  gcache_size_mb: z.int().min(16).default(512),
  innodb_buffer_pool_mb: z.int().min(64).default(1024),
  max_connections: z.int().min(100).default(4096),
  evs_suspect_timeout_s: z.number().min(1).default(5),
  evs_inactive_timeout_s: z.number().min(2).default(10),
  check_port: z.int().min(1).max(65535).default(9200),
  /**
   * How often each HAProxy checks each Galera node, in ms. Lower than the site's other checks
   * because the writer is one server (`balance first`): while HAProxy still believes a
   * powered-off writer is up, every write through the VIP waits. A dead host refuses nothing, so
   * each check waits its connect timeout, which HAProxy caps at this interval: at 1000 ms a
   * writer's power-off cost writes 1.3-3.3 s, at 500 ms 1.4-1.7 s idle and 1.3-2.8 s busy
   * (keepalived series, docs/tuning.md). The price: twice the queries on every node's checker (one process, one connection).
   */
  check_inter_ms: z
    .int()
    .min(100)
    .max(10_000)
    .default(500)
    .describe("how often each HAProxy checks each Galera node (ms); also its connect timeout"),
});
export type GaleraSettings = z.output<typeof GaleraSettings>;

export function galeraSettings(topology: Topology): GaleraSettings {
  return topology.settings.galera as GaleraSettings;
}

export function checkGaleraSettings(inv: InventoryView): Omit<Problem, "pos">[] {
  const { evs_suspect_timeout_s, evs_inactive_timeout_s } = inv.settings.galera as GaleraSettings;
  if (evs_inactive_timeout_s > evs_suspect_timeout_s) return [];
  return [
    {
      severity: "error",
      code: "E_GALERA_EVS",
      path: ["services", "galera", "evs_inactive_timeout_s"],
      message: `services.galera.evs_inactive_timeout_s must be greater than evs_suspect_timeout_s (${evs_suspect_timeout_s})`,
      hint: "Galera declares a node inactive only after it was suspected; raise inactive or lower suspect",
    },
  ];
}
