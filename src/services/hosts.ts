import type { ResolvedHost, Topology } from "../topology/types.ts";

/** Controllers in corosync nodeid order (controllerIndex 1, 2, 3...). */
export function controllers(topology: Topology): ResolvedHost[] {
  return topology.hosts
    .filter((h) => h.controllerIndex > 0)
    .sort((a, b) => a.controllerIndex - b.controllerIndex);
}

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
