/**
 * @module
 * Glance's own probe: its image store reachable the way glance-api reaches it, from each
 * controller: `rbd ls images` as client.glance with the keyring the Ceph service wrote, run as
 * the glance user (a keyring glance cannot read fails here, not at the first upload).
 */
import { z } from "zod";
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import { rbdJson } from "../ceph/ceph-tool.ts";
import { controllerNames } from "../hosts.ts";
import { GLANCE_KEYRING, IMAGES_POOL } from "./store.ts";

/** `rbd ls --format json`: the image names of the pool. */
export const RbdList = z.array(z.string());

export const GLANCE_ID = { name: "client.glance", keyring: GLANCE_KEYRING };

export function asGlance(argv: string[]): string[] {
  return ["runuser", "-u", "glance", "--", ...argv];
}

export function glanceProbes(topology: Topology): ProbeSpec[] {
  if (!topology.endpoints.glance) return [];
  return [
    {
      id: "rbd-store",
      title: `the ${IMAGES_POOL} pool listed as client.glance by the glance user`,
      on: "each",
      hosts: controllerNames(topology),
      weight: "redundant",
      timeoutMs: 30_000,
      async run(ctx: ProbeContext): Promise<ProbeResult> {
        const host = ctx.host;
        if (!host) return { state: "unknown", summary: "no host" };
        const started = performance.now();
        try {
          const images = await rbdJson(ctx.transport(host.name), ["ls", IMAGES_POOL], GLANCE_ID, RbdList, {
            wrap: asGlance,
            timeoutMs: 25_000,
          });
          const ms = Math.round(performance.now() - started);
          return {
            state: "ok",
            summary: `${images.length} image(s) in pool ${IMAGES_POOL}, listed as client.glance in ${ms} ms`,
            details: { pool: IMAGES_POOL, images: images.length },
          };
        } catch (e) {
          return { state: "down", summary: e instanceof Error ? e.message : String(e) };
        }
      },
    },
  ];
}
