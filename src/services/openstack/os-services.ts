/**
 * @module
 * GET /os-services as Nova (compute API 2.1) and Cinder (volume API 3.0) both answer it: one
 * entry per binary and host, with its admin status and whether it reports in (`state`); and
 * how such a host matches an inventory name.
 */
import { z } from "zod";

export const OsServiceList = z.object({
  services: z.array(
    z.object({
      binary: z.string(),
      host: z.string(),
      status: z.string(),
      state: z.string(),
    }),
  ),
});
export type OsService = z.output<typeof OsServiceList>["services"][number];

/**
 * What a service calls its host (CONF.host, the hostname by default), short or fully qualified,
 * against the inventory's name: `cmp10` is not `cmp1`.
 */
export function sameHost(serviceHost: string, inventoryName: string): boolean {
  return serviceHost === inventoryName || serviceHost.startsWith(`${inventoryName}.`);
}
