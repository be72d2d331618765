/**
 * @module
 * GET /os-services as Nova (compute API 2.1) and Cinder (volume API 3.0) both answer it: one
 * entry per binary and host, with its admin status and whether it reports in (`state`).
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
