import { HA_DATABASE, HA_USER } from "../../instance-ha/store-connect.ts";
import { HAPROXY_CLONE } from "../haproxy/vips.ts";
import { controllerNames } from "../hosts.ts";
import { databaseStep } from "../openstack/database-step.ts";
import { userStep } from "../openstack/identity-step.ts";
import { secretNames } from "../openstack/oslo.ts";
import type { ServiceDef } from "../types.ts";
import { agentFiles } from "./agent-files.ts";
import { agentRunningStep } from "./agent-running.ts";
import {
  ENGINE_DIR,
  ENGINE_KEYSTONE_USER,
  ENGINE_RESOURCE,
  ENGINE_UNIT,
  engineFiles,
} from "./engine-files.ts";
import { engineRunningStep } from "./engine-running.ts";
import { enginePrograms } from "./programs.ts";
import { shipSteps } from "./ship/agent-program.ts";

/**
 * Instance HA (#10): hastack-agent on every compute (heartbeats over both networks), and
 * hastack-engine on one controller at a time (a Pacemaker resource), which fences a dead compute
 * and evacuates its VMs. Ordered after host-prep only: the agent and the engine's program are
 * shipped early (the CIB that runs the engine waits for them), while the database and Keystone
 * steps wait for Galera and Keystone themselves. An engine that starts before those exist keeps
 * retrying, and its gates refuse every fence while Nova is not up.
 */
export const instanceHa: ServiceDef = {
  id: "instance-ha",
  state: "implemented",
  title: "Instance HA (evacuation of failed computes)",
  after: ["host-prep"],
  // Only where there is something to evacuate with: Nova (and its computes).
  hosts: (topology) =>
    topology.instanceHa.enabled &&
    topology.openstack.enabled.includes("nova") &&
    topology.roles.compute.length > 0
      ? [...controllerNames(topology), ...topology.roles.compute]
      : [],
  packages: (_topology, host) => (host.roles.includes("controller") ? ["ipmitool"] : []),
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
    {
      name: secretNames(ENGINE_KEYSTONE_USER).identity,
      kind: "password",
      description: `Keystone password of the instance-HA engine's user ${ENGINE_KEYSTONE_USER} (evacuates through Nova)`,
    },
  ],
  steps: (topology) => [
    // Where the engine writes the files (the agent's and the engine's units and configs).
    { id: "files", title: "write the agent's and the engine's units and configs", on: "each" },
    // The pinned Node and the programs (the CIB waits for the engine's: Pacemaker must not start
    // a unit whose program is not there yet), the agents' keys, then the agents started.
    ...shipSteps(topology, enginePrograms()),
    // The engine's history database on Galera, made as the OpenStack services' are: the database
    // utf8mb4, the user with ALL on it. The engine creates its tables.
    databaseStep({ user: HA_USER, databases: [HA_DATABASE] }),
    userStep(
      ENGINE_KEYSTONE_USER,
      `Keystone user ${ENGINE_KEYSTONE_USER} for the instance-HA engine: admin on the service project`,
    ),
    agentRunningStep(topology.roles.compute, ["files", "agent", "agent-key"]),
    engineRunningStep([`${ENGINE_DIR}/.manifest.json`], ["files", "engine", "database", "identity"]),
  ],
  files: (ctx, host) => [
    ...(host.roles.includes("compute") ? agentFiles(ctx.topology, host) : []),
    ...(host.roles.includes("controller") ? engineFiles(ctx, host) : []),
  ],
  pacemaker: () => ({
    after: ["instance-ha.files", "instance-ha.engine"],
    primitives: [
      {
        id: ENGINE_RESOURCE,
        class: "systemd",
        type: ENGINE_UNIT.replace(/\.service$/, ""),
        params: {},
        ops: [
          { name: "monitor", interval_s: 5, timeout_s: 30 },
          { name: "start", interval_s: 0, timeout_s: 60 },
          { name: "stop", interval_s: 0, timeout_s: 90 },
        ],
      },
    ],
    constraints: [
      {
        kind: "order",
        id: `haproxy-then-${ENGINE_RESOURCE}`,
        first: HAPROXY_CLONE,
        // biome-ignore lint/suspicious/noThenProperty: Pacemaker's name for an order's second resource.
        then: ENGINE_RESOURCE,
        // When both start (a site back from a power loss), HAProxy first: the engine reaches its
        // database through the VIP, and two systemd starts on one node at once each make
        // pacemaker-execd reload systemd (its drop-in in /run, gone at boot). On a busy, freshly
        // booted controller the two reloads took 3.5 s and 2.9 s, and the engine's start was read
        // back "inactive" though systemd started it a second later (lab, 2026-12-05 07:21:32-39):
        // a failed action, the engine moved, status degraded. Optional: a restart of HAProxy
        // alone does not restart the engine.
        orderKind: "Optional",
      },
    ],
  }),
};
