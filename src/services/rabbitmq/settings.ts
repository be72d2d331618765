import { z } from "zod";
import type { Topology } from "../../topology/types.ts";

export const RabbitmqSettings = z.strictObject({
  partition_handling: z.literal("pause_minority").default("pause_minority"),
  net_ticktime_s: z.int().min(5).default(15),
  vhost: z.string().default("/openstack"),
  user: z.string().default("openstack"),
  /** hastack's own administrator: its steps and probes ask the management API as this user. */
  admin_user: z.string().default("hastack"),
  default_queue_type: z.enum(["quorum"]).default("quorum"),
});
export type RabbitmqSettings = z.output<typeof RabbitmqSettings>;

export function rabbitmqSettings(topology: Topology): RabbitmqSettings {
  return topology.settings.rabbitmq as RabbitmqSettings;
}
