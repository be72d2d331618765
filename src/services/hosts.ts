import type { ResolvedHost, Topology } from "../topology/types.ts";

/** Controllers in corosync nodeid order (controllerIndex 1, 2, 3...). */
export function controllers(topology: Topology): ResolvedHost[] {
  let sorted = controllersOf.get(topology.hosts);
  if (!sorted) {
    sorted = topology.hosts
      .filter((h) => h.controllerIndex > 0)
      .sort((a, b) => a.controllerIndex - b.controllerIndex);
    controllersOf.set(topology.hosts, sorted);
  }
  return [...sorted];
}

/**
 * Controllers by host list: services ask once per host they render, and a walk of every host each
 * time was quadratic on a 5,000-compute site. Nothing changes a topology once resolved; a copy
 * with other hosts has its own array. Callers get a copy, free to sort or change it.
 */
const controllersOf = new WeakMap<readonly ResolvedHost[], ResolvedHost[]>();

export function controllerNames(topology: Topology): string[] {
  return controllers(topology).map((h) => h.name);
}

/** An OpenStack API runs on every controller when the inventory enables it, else nowhere. */
export function openstackHosts(topology: Topology, service: string): string[] {
  return topology.openstack.enabled.includes(service) ? controllerNames(topology) : [];
}

/** `10.20.0.11` -> `{10,20,0,11}`, the Erlang tuple form of an address. */
export function erlangAddress(ip: string): string {
  return `{${ip.split(".").join(",")}}`;
}
