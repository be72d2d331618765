import type { OpenStackService } from "../inventory/schema.ts";
import type { Topology } from "../topology/types.ts";
import { vipFor } from "../topology/types.ts";
import { controllers, openstackHosts } from "./hosts.ts";
import type { Frontend, HealthCheck, Listen, SecretSpec, ServiceDef, StepSpec } from "./types.ts";

export interface ApiListener {
  /** Endpoint id in topology.endpoints ("nova", "nova-metadata"...). */
  endpoint: string;
  /** haproxy.cfg section name. */
  name: string;
  check: HealthCheck;
  sticky?: boolean;
  mode?: "http" | "tcp";
  timeouts?: Frontend["timeouts"];
}

export interface ApiServiceSpec {
  id: OpenStackService;
  title: string;
  after: string[];
  listeners: ApiListener[];
  secrets: SecretSpec[];
  packages: string[];
  steps: StepSpec[];
}

/**
 * An OpenStack API as data: the listeners HAProxy puts on its VIP, backed by every controller's
 * own management address (the API binds that address, never 0.0.0.0, since HAProxy holds the
 * same port on the VIP).
 */
export function apiService(spec: ApiServiceSpec): ServiceDef {
  const present = (topology: Topology) => spec.listeners.filter((l) => topology.endpoints[l.endpoint]);
  return {
    id: spec.id,
    title: spec.title,
    after: spec.after,
    hosts: (topology) => openstackHosts(topology, spec.id),
    // Nothing to install while the steps are names only (see deployable.ts): the lab image, for
    // one, has no mirror to fetch what these lists name.
    packages: () => (spec.steps.some((s) => s.check || s.apply) ? spec.packages : []),
    secrets: spec.secrets,
    frontends: (topology) =>
      present(topology).flatMap((l) => {
        const port = topology.endpoints[l.endpoint]?.port ?? 0;
        return [
          {
            name: l.name,
            service: spec.id,
            address: vipFor(topology, spec.id),
            port,
            mode: l.mode ?? "http",
            balance: l.sticky ? "source" : "roundrobin",
            check: l.check,
            backends: controllers(topology).map((h) => ({ host: h.name, address: h.ip, port })),
            ...(l.sticky ? { sticky: true } : {}),
            ...(l.timeouts ? { timeouts: l.timeouts } : {}),
          } satisfies Frontend,
        ];
      }),
    listens: (topology, host) =>
      present(topology).map(
        (l): Listen => ({
          address: host.ip,
          port: topology.endpoints[l.endpoint]?.port ?? 0,
          proto: "tcp",
          owner: l.name,
        }),
      ),
    steps: () => spec.steps,
  };
}

/** Database and Keystone service-user passwords, named alike for every service. */
export function dbAndServiceUser(service: string): SecretSpec[] {
  return [
    {
      name: `db_${service}`,
      kind: "password",
      description: `MariaDB password of the ${service} database user`,
    },
    {
      name: `svc_${service}`,
      kind: "password",
      description: `Keystone password of the ${service} service user`,
    },
  ];
}

/** The usual deploy steps of an API, names only until the deploy issue. */
export function apiSteps(service: string, extra: StepSpec[] = []): StepSpec[] {
  return [
    { id: "database", title: `Create the ${service} database and user`, on: "bootstrap" },
    { id: "keystone", title: `Register the ${service} service user, service and endpoints`, on: "bootstrap" },
    { id: "config", title: `Write the ${service} configuration`, on: "each" },
    {
      id: "db-sync",
      title: `Migrate the ${service} database`,
      on: "bootstrap",
      after: ["database", "config"],
    },
    {
      id: "start",
      title: `Start the ${service} services; wait until HAProxy sees every backend up`,
      on: "each",
      after: ["db-sync"],
    },
    ...extra,
  ];
}
