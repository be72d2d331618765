import type { Topology } from "../topology/types.ts";
import type { ServiceDef } from "./types.ts";

/**
 * Whether this hastack version really deploys a service, or only declares it (names of steps,
 * frontends and secrets, ahead of the issue that implements it). A declared-only service installs
 * no packages and its HAProxy frontends are not held against the site's health: nothing is
 * meant to answer behind them yet.
 */
export function hastackDeploys(service: ServiceDef, topology: Topology): boolean {
  const steps = service.steps?.(topology) ?? [];
  return steps.length === 0 || steps.some((s) => s.check !== undefined || s.apply !== undefined);
}
