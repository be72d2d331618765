import { z } from "zod";
import type { Topology } from "../../topology/types.ts";

export const HorizonSettings = z.strictObject({
  tls: z.boolean().default(false).describe("serve Horizon on 443 as well as 80"),
});
export type HorizonSettings = z.output<typeof HorizonSettings>;

export function horizonSettings(topology: Topology): HorizonSettings {
  return topology.settings.horizon as HorizonSettings;
}
