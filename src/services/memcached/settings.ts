import { z } from "zod";
import type { Topology } from "../../topology/types.ts";

export const MEMCACHED_PORT = 11211;

export const MemcachedSettings = z.strictObject({
  memory_mb: z.int().min(16).default(1024),
  max_connections: z.int().min(64).default(8192),
});
export type MemcachedSettings = z.output<typeof MemcachedSettings>;

export function memcachedSettings(topology: Topology): MemcachedSettings {
  return topology.settings.memcached as MemcachedSettings;
}
