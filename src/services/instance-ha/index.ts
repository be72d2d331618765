import type { ServiceDef } from "../types.ts";

/** Instance HA (later issue): only its secret exists yet, so `secrets init` creates it now. */
export const instanceHa: ServiceDef = {
  id: "instance-ha",
  state: "declared",
  title: "Instance HA (evacuation of failed computes)",
  hosts: () => [],
  secrets: [
    {
      name: "instance_ha_signing_key",
      kind: "hex-32",
      description: "signs instance-HA heartbeats and fencing requests",
    },
  ],
};
