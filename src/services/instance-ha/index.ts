import { HA_DATABASE, HA_USER } from "../../instance-ha/store-connect.ts";
import { databaseStep } from "../openstack/database-step.ts";
import { secretNames } from "../openstack/oslo.ts";
import type { ServiceDef } from "../types.ts";
import { agentFiles } from "./agent-files.ts";

/**
 * Instance HA (#10). The compute agent's files render (agent-files.ts) but the service stays
 * declared, so nothing is deployed: the engine that would hear the heartbeats does not exist
 * yet, and a compute whose heartbeats nobody hears gains nothing from sending them.
 */
export const instanceHa: ServiceDef = {
  id: "instance-ha",
  state: "declared",
  title: "Instance HA (evacuation of failed computes)",
  // The computes (topology.roles.compute) once implemented: render only renders for hosts listed here.
  hosts: () => [],
  secrets: [
    {
      name: "instance_ha_signing_key",
      kind: "hex-32",
      description: "signs instance-HA heartbeats and fencing requests",
    },
    {
      // db_hastack_ha: the name the shared database step reads for the user hastack_ha.
      name: secretNames(HA_USER).database,
      kind: "password",
      description: `MariaDB password of the instance-HA engine's user ${HA_USER} (its history, database ${HA_DATABASE})`,
    },
  ],
  // The engine's history database (src/instance-ha/store.ts) on Galera, made as the OpenStack
  // services' are: the database utf8mb4, the user with ALL on it. The engine creates its tables.
  steps: () => [databaseStep({ user: HA_USER, databases: [HA_DATABASE] })],
  // The key file is not among them: it is derived from the secret on the deploying machine.
  files: (ctx, host) => (host.roles.includes("compute") ? agentFiles(ctx.topology, host) : []),
};
