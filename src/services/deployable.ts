import type { Topology } from "../topology/types.ts";
import type { ServiceDef } from "./types.ts";

/**
 * Whether hastack deploys a service on this site: it is implemented, and runs on some host (an
 * OpenStack service disabled in the inventory runs nowhere). A declared service installs nothing,
 * renders nothing and gets no HAProxy frontend: nothing is meant to answer behind it yet.
 */
export function isDeployed(service: ServiceDef, topology: Topology): boolean {
  return service.state === "implemented" && service.hosts(topology).length > 0;
}

/** Declared services the site enables: plan, deploy and status name them as not implemented. */
export function notImplemented(services: readonly ServiceDef[], topology: Topology): ServiceDef[] {
  return services.filter((s) => s.state === "declared" && s.hosts(topology).length > 0);
}

/** The site's services in deploy order, for engines that must name them in a stable order. */
export function deployed(services: readonly ServiceDef[], topology: Topology): ServiceDef[] {
  return services.filter((s) => isDeployed(s, topology));
}
