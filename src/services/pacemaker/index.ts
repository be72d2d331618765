import { cibDocument, mergeContributions } from "../../formats/cib.ts";
import { secretPlaceholder } from "../../inventory/secrets.ts";
import type { Topology } from "../../topology/types.ts";
import { isDeployed } from "../deployable.ts";
import { controllerNames } from "../hosts.ts";
import type { PacemakerContribution, ServiceDef } from "../types.ts";
import { CIB_PATH } from "./cib-load.ts";
import { clusterPacemaker } from "./cluster.ts";
import { corosyncConfig } from "./corosync.ts";
import { pacemakerDiagnostics } from "./diagnostics.ts";
import { pacemakerHealth } from "./health.ts";
import { CorosyncSettings, checkPacemakerSettings, PacemakerSettings } from "./settings.ts";
import { pacemakerSteps } from "./steps.ts";

/** Where the rendered CIB lands; the cib step loads what differs with `cibadmin --replace`. */
export { CIB_PATH };

/** Steps every deployed contribution waits for: the CIB is loaded after all of them. */
export function contributionSteps(topology: Topology, services: readonly ServiceDef[]): string[] {
  return services.flatMap((s) =>
    s.pacemaker && isDeployed(s, topology) ? (s.pacemaker(topology).after ?? []) : [],
  );
}

/** The CIB from every deployed service's contribution, in the site's order. */
export function clusterCib(topology: Topology, services: readonly ServiceDef[]): string {
  const parts: PacemakerContribution[] = services.flatMap((s) =>
    s.pacemaker && isDeployed(s, topology) ? [s.pacemaker(topology)] : [],
  );
  return cibDocument(mergeContributions(parts));
}

export const pacemaker: ServiceDef = {
  id: "pacemaker",
  title: "Corosync and Pacemaker cluster of the controllers",
  state: "implemented",
  settings: { pacemaker: PacemakerSettings, corosync: CorosyncSettings },
  check: checkPacemakerSettings,
  after: ["host-prep"],
  hosts: controllerNames,
  components: [
    {
      name: "cluster",
      role: "controller",
      packages: [
        "corosync",
        "pacemaker",
        "pacemaker-cli-utils",
        "pcs",
        "resource-agents",
        "fence-agents-ipmilan",
      ],
      units: ["corosync.service", "pacemaker.service", "pcsd.service", "pcsd-ruby.service"],
    },
  ],
  secrets: [
    {
      name: "corosync_authkey",
      kind: "bytes-256",
      description: "corosync knet encryption key (/etc/corosync/authkey)",
    },
    { name: "hacluster_password", kind: "password", description: "password of the hacluster user (pcs)" },
  ],
  files: (ctx) => [
    {
      path: "/etc/corosync/corosync.conf",
      owner: "root",
      group: "root",
      mode: 0o644,
      content: corosyncConfig(ctx.topology),
      onChange: { reload: ["corosync"] },
    },
    {
      path: "/etc/corosync/authkey",
      owner: "root",
      group: "root",
      mode: 0o400,
      content: ctx.secret("corosync_authkey"),
      encoding: "base64",
      onChange: { restart: ["corosync"] },
    },
    {
      // Holds the BMC passwords of the fence devices.
      path: CIB_PATH,
      owner: "root",
      group: "root",
      mode: 0o600,
      content: clusterCib(ctx.topology, ctx.services),
    },
  ],
  pacemaker: (topology) => clusterPacemaker(topology, secretPlaceholder),
  listens: (_topology, host) => [
    { address: host.ip, port: 5405, proto: "udp", owner: "corosync knet" },
    { address: host.ip, port: 2224, proto: "tcp", owner: "pcsd" },
  ],
  // The CIB probe compares the live CIB with the one rendered from the whole site's services.
  health: (topology, services) =>
    pacemakerHealth(topology, services ? () => clusterCib(topology, services) : undefined),
  diagnostics: pacemakerDiagnostics,
  // Boot does not start the cluster stack: a fenced node comes back without rejoining until an
  // operator looks (E19); see steps.ts.
  steps: (topology, services) => pacemakerSteps(contributionSteps(topology, services)),
};
