import type { ServiceDef } from "../services/types.ts";

type Path = (string | number)[];
export type RequirementProblem = [code: "E_SERVICE_DEPENDENCY", path: Path, message: string, hint: string];

/**
 * Every enabled service's `requires`, followed transitively: nova needs placement, placement
 * needs keystone, so nova with keystone disabled names keystone even when placement is on. Base
 * services (no group) are always on. Reported at the position of the service that needs it.
 */
export function checkRequirements(
  enabled: readonly string[],
  services: readonly ServiceDef[],
): RequirementProblem[] {
  const byId = new Map(services.map((s) => [s.id, s]));
  const on = (id: string) => {
    const service = byId.get(id);
    return service !== undefined && (!service.group || enabled.includes(id));
  };
  const out: RequirementProblem[] = [];
  for (const [index, id] of enabled.entries()) {
    const missing = [...requiredBy(id, byId)].filter((dep) => !on(dep));
    if (missing.length === 0) continue;
    out.push([
      "E_SERVICE_DEPENDENCY",
      ["services", "openstack", "enabled", index],
      `services.openstack.enabled: ${id} requires ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not enabled`,
      `add ${missing.join(", ")} to services.openstack.enabled, or remove ${id}`,
    ]);
  }
  return out;
}

/** Everything `id` needs, directly or through what it needs, in discovery order. */
export function requiredBy(id: string, byId: ReadonlyMap<string, ServiceDef>): Set<string> {
  const seen = new Set<string>();
  const visit = (current: string) => {
    for (const dep of byId.get(current)?.requires ?? []) {
      if (seen.has(dep) || dep === id) continue;
      seen.add(dep);
      visit(dep);
    }
  };
  visit(id);
  return seen;
}
