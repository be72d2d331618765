import { z } from "zod";
import type { Topology } from "../../topology/types.ts";

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

export const EtcdSettings = z.strictObject({
  heartbeat_ms: z.int().min(10).default(100),
  election_timeout_ms: z.int().min(100).default(1000),
});
export type EtcdSettings = z.output<typeof EtcdSettings>;

export function etcdSettings(topology: Topology): EtcdSettings {
  return topology.settings.etcd as EtcdSettings;
}
