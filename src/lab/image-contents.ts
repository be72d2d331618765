/**
 * @module
 * What the lab image holds, derived from the services' components: every package any role of
 * any service needs (the image serves every lab host), and the units hastack's deploy enables
 * itself (disabled in the image, never masked). The registry is passed in, never imported here.
 */
import type { Component } from "../services/types.ts";
import { ALWAYS_MASK, BASE_PACKAGES, KEEP_ENABLED } from "./image-recipe.ts";

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

/** What the image build does to units: `disable` first, then `mask`. */
export interface UnitActions {
  disable: string[];
  mask: string[];
}

/**
 * From the units the packages left enabled: every unit not kept is disabled; units nothing
 * deploys are masked too (so no socket, timer or D-Bus activation starts them), and so are
 * OpenStack, Ceph, libvirt and OVS units nothing deploys even when not enabled. A deploy-managed
 * unit is never masked: `systemctl enable` refuses a masked unit, and also one whose Also= or
 * Requires= names a masked one (libvirtd's sockets, openvswitch-switch's ovs-record-hostname).
 */
export function unitActions(enabled: readonly string[], contents: ImageContents): UnitActions {
  const managed = new Set(contents.deployManaged);
  const kept = (unit: string) => KEEP_ENABLED.some((re) => re.test(unit));
  const disable = enabled.filter((u) => managed.has(u) || (!kept(u) && !alwaysMaskedFamily(u)));
  const masked = [
    ...ALWAYS_MASK,
    ...enabled.filter((u) => alwaysMaskedFamily(u)),
    ...disable.filter((u) => !u.endsWith("@.service")),
  ];
  return { disable, mask: [...new Set(masked)].filter((u) => !managed.has(u)) };
}

/** Units of these families start heavy daemons (or fail without config): masked unless deployed. */
function alwaysMaskedFamily(unit: string): boolean {
  return /^(nova|neutron|cinder|glance|keystone|placement|ceph|libvirt|virt|ovs|openvswitch|apache2|uwsgi)/.test(
    unit,
  );
}
