/**
 * @module
 * What the lab image holds, derived from the services' components: every package any role of
 * any service needs (the image serves every lab host), and the units hastack's deploy enables
 * itself (disabled in the image, never masked). The registry is passed in, never imported here.
 */
import type { Component } from "../services/types.ts";
import { BASE_PACKAGES, KEEP_ENABLED } from "./image-recipe.ts";

export interface ImageContents {
  packages: string[];
  deployManaged: string[];
}

export function imageContents(components: readonly Component[]): ImageContents {
  const fromServices = components.flatMap((c) => c.packages);
  const packages = [...new Set([...BASE_PACKAGES, ...[...new Set(fromServices)].sort()])];
  // A unit the image keeps enabled (chrony, ssh) is not the deploy's to enable.
  const kept = (unit: string) => KEEP_ENABLED.some((re) => re.test(unit));
  const deployManaged = [...new Set(components.flatMap((c) => c.units))].filter((u) => !kept(u)).sort();
  return { packages, deployManaged };
}
