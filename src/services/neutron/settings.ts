import { z } from "zod";
import type { Topology } from "../../topology/types.ts";

export const NeutronSettings = z.strictObject({
  datapath: z
    .union([z.literal("kernel"), z.literal("userspace")])
    .default("kernel")
    .describe(
      "Open vSwitch datapath on every OVN chassis: kernel (OVS's system datapath, the openvswitch and geneve modules: real hosts) or userspace (netdev: needs only /dev/net/tun; the lab, whose kernel has neither module)",
    ),
  userspace_tso: z
    .boolean()
    .default(true)
    .describe(
      "userspace datapath only: TCP segmentation offload for tap ports; without it DHCP and ping work but guests' TCP fails (checksums left unfilled)",
    ),
  enable_distributed_floating_ip: z
    .boolean()
    .default(false)
    .describe(
      "[ovn] enable_distributed_floating_ip: a floating IP's traffic leaves from the compute its port is on (each compute then needs the provider network) instead of through the gateway chassis on the controllers",
    ),
  geneve_vni_ranges: z
    .string()
    .regex(/^\d+:\d+(,\d+:\d+)*$/, "MIN:MAX[,MIN:MAX...]")
    .default("1:65536")
    .describe("[ml2_type_geneve] vni_ranges: the Geneve VNIs Neutron hands to self-service networks"),
});
export type NeutronSettings = z.output<typeof NeutronSettings>;

export function neutronSettings(topology: Topology): NeutronSettings {
  return topology.settings.neutron as NeutronSettings;
}
