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
});
export type NeutronSettings = z.output<typeof NeutronSettings>;

export function neutronSettings(topology: Topology): NeutronSettings {
  return topology.settings.neutron as NeutronSettings;
}
