import type { ServiceDef } from "./types.ts";

/**
 * Every service hastack knows, in deploy order. An explicit list (Renovate's registries): adding
 * a service means adding its folder and one line here; engines iterate this and nothing else.
 */
export const services: readonly ServiceDef[] = [];

export function serviceById(id: string): ServiceDef | undefined {
  return services.find((s) => s.id === id);
}
