/**
 * @module
 * The inventory schema of a set of services (Vite's plugins shaping the config they read): each
 * service brings its `services.<key>` settings, and the optional OpenStack services make up the
 * values of `services.openstack.enabled`. The registry is passed in, never imported here.
 */
import type { z } from "zod";
import type { ServiceDef } from "../services/types.ts";
import { inventorySchema } from "./schema.ts";

export type InventorySchema = ReturnType<typeof inventorySchema>;

const cache = new WeakMap<readonly ServiceDef[], InventorySchema>();

export function inventorySchemaFor(services: readonly ServiceDef[]): InventorySchema {
  const cached = cache.get(services);
  if (cached) return cached;
  const blocks: Record<string, z.ZodObject> = {};
  for (const service of services) {
    for (const [key, schema] of Object.entries(service.settings ?? {})) {
      if (blocks[key] || key === "openstack")
        throw new Error(`services.${key} is claimed twice (second: ${service.id})`);
      blocks[key] = schema;
    }
  }
  const optional = services.filter((s) => s.group === "openstack").map((s) => s.id);
  const schema = inventorySchema(blocks, optional);
  cache.set(services, schema);
  return schema;
}
