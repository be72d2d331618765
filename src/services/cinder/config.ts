/**
 * @module
 * cinder.conf's own sections: one RBD backend on the Ceph `volumes` pool, served active/active by
 * every controller's cinder-volume as one cluster (coordination on the site's etcd comes from the
 * shared [coordination] section), backups to the `backups` pool of the same Ceph, and the
 * service's calls to Glance and Nova on their internal endpoints as its own service user.
 */
import type { DocSection } from "../../formats/doc.ts";
import type { ResolvedHost } from "../../topology/types.ts";
import { volumeSecretUuid } from "../ceph/layout.ts";
import type { PoolName } from "../ceph/settings.ts";
import { serviceAuth } from "../openstack/oslo.ts";
import type { RenderContext } from "../types.ts";

/** The one backend of `enabled_backends`, named after its driver; also its volume_backend_name. */
export const BACKEND = "rbd";
export const VOLUMES_POOL: PoolName = "volumes";
export const BACKUPS_POOL: PoolName = "backups";
export const CINDER_PORT = 8776;

/** Every cinder-volume of the site is one cluster: any of them serves any volume of the backend. */
export function clusterName(ctx: Pick<RenderContext, "topology">): string {
  return `${ctx.topology.cluster}-volume`;
}

export function cinderSections(ctx: RenderContext, host: ResolvedHost): DocSection[] {
  return [
    {
      name: "DEFAULT",
      entries: [
        ["my_ip", host.ip],
        ["auth_strategy", "keystone"],
        // cinder-volume's active/active: volumes belong to the cluster, not to one host, so a
        // controller that dies takes none of them with it (the RBD driver supports it).
        ["cluster", clusterName(ctx)],
        ["enabled_backends", BACKEND],
        // Debian's file points at Glance on 127.0.0.1: the catalogue's internal endpoint instead.
        ["glance_catalog_info", "image:glance:internalURL"],
        ["nova_catalog_info", "compute:nova:internalURL"],
        ["backup_driver", "cinder.backup.drivers.ceph.CephBackupDriver"],
        ["backup_ceph_conf", "/etc/ceph/ceph.conf"],
        // client.cinder holds rights on `backups` too (ceph/layout.ts CLIENTS): one key, one keyring.
        ["backup_ceph_user", "cinder"],
        ["backup_ceph_pool", BACKUPS_POOL],
        ["backup_ceph_chunk_size", String(128 * 1024 * 1024)],
        ["backup_ceph_stripe_unit", "0"],
        ["backup_ceph_stripe_count", "0"],
        ["restore_discard_excess_bytes", "true"],
      ],
    },
    {
      name: BACKEND,
      entries: [
        ["volume_driver", "cinder.volume.drivers.rbd.RBDDriver"],
        ["volume_backend_name", BACKEND],
        ["rbd_pool", VOLUMES_POOL],
        ["rbd_ceph_conf", "/etc/ceph/ceph.conf"],
        // librados finds /etc/ceph/ceph.client.cinder.keyring for this user by itself.
        ["rbd_user", "cinder"],
        // Named in every volume's connection info: QEMU on the compute attaches with the key that
        // nova's libvirt-secret step stored under this UUID.
        ["rbd_secret_uuid", volumeSecretUuid(ctx.topology)],
        // Volumes from images are copy-on-write clones of Glance's RBD images (same cluster).
        ["rbd_flatten_volume_from_snapshot", "false"],
        ["rbd_max_clone_depth", "5"],
        ["report_discard_supported", "true"],
      ],
    },
    // Extending an attached volume and snapshots of in-use volumes tell Nova through its API.
    serviceAuth(ctx, "nova", "cinder", [["interface", "internal"]]),
    // Service tokens on calls to other APIs, as Nova sends them (the 2023 volume-detach advisory).
    serviceAuth(ctx, "service_user", "cinder", [["send_service_user_token", "true"]]),
    // HAProxy in front: the scheme and client address of a request come from X-Forwarded-*.
    { name: "oslo_middleware", entries: [["enable_proxy_headers_parsing", "true"]] },
  ];
}
