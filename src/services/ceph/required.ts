import type { Problem } from "../../util/errors.ts";
import type { InventoryView } from "../types.ts";
import { type CephSettings, cephConfigured } from "./settings.ts";

/**
 * A service that keeps its data on Ceph (Glance's images, Cinder's volumes and backups), enabled
 * without Ceph configured, is an inventory error, not a site with a local store: `requires:
 * ["ceph"]` alone says nothing, as Ceph is a base service, always "on", that simply runs nowhere
 * without storage hosts and OSDs. A local store behind a load balancer would hold data on one
 * controller only (runbook E10); none is offered.
 */
export function requireCeph(service: string, keeps: string): (inv: InventoryView) => Omit<Problem, "pos">[] {
  return (inv) => {
    const index = inv.enabled.indexOf(service);
    if (index === -1) return [];
    const ceph = inv.settings.ceph as CephSettings | undefined;
    const storage = Object.values(inv.hosts).some((h) => h.roles.includes("storage"));
    if (ceph && cephConfigured(ceph) && storage) return [];
    return [
      {
        severity: "error",
        code: "E_SERVICE_DEPENDENCY",
        path: ["services", "openstack", "enabled", index],
        message: `services.openstack.enabled: ${service} stores ${keeps} on Ceph RBD, and Ceph is not configured (no storage hosts with OSDs)`,
        hint: `give hosts the storage role and set services.ceph.osd_devices (or services.ceph.osd_file), or remove ${service} and what requires it`,
      },
    ];
  };
}
