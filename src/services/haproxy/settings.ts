import { z } from "zod";
import type { Topology } from "../../topology/types.ts";

export const HaproxySettings = z.strictObject({
  check: z
    .strictObject({
      inter_ms: z.int().min(100).default(1000),
      fastinter_ms: z.int().min(50).default(250),
      downinter_ms: z.int().min(100).default(2000),
      rise: z.int().min(1).default(2),
      fall: z.int().min(1).default(2),
    })
    .prefault({}),
  timeouts: z
    .strictObject({
      connect_ms: z.int().min(100).default(5000),
      client_s: z.int().min(1).default(600),
      server_s: z.int().min(1).default(600),
      check_ms: z.int().min(100).default(2000),
    })
    .prefault({}),
  maxconn: z.int().min(100).default(40000),
  stats_port: z.int().min(1).max(65535).default(8404),
});
export type HaproxySettings = z.output<typeof HaproxySettings>;

export function haproxySettings(topology: Topology): HaproxySettings {
  return topology.settings.haproxy as HaproxySettings;
}
