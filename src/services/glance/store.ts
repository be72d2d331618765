/**
 * @module
 * Glance's image store: Ceph RBD through Glance's multi-store configuration, the same pool from
 * every controller, never a local file store behind a load balancer (an image uploaded through
 * one controller would exist only there: runbook E10). Glance therefore needs Ceph configured.
 */
import type { DocSection } from "../../formats/doc.ts";
import type { ResolvedHost } from "../../topology/types.ts";
import { clientKeyring } from "../ceph/layout.ts";
import { requireCeph } from "../ceph/required.ts";
import type { PoolName } from "../ceph/settings.ts";
import { workers } from "../openstack/wsgi.ts";
import type { RenderContext } from "../types.ts";

export const GLANCE_PORT = 9292;
/** The one store of `enabled_backends`, named after its type. */
export const STORE = "rbd";
export const IMAGES_POOL: PoolName = "images";
export const GLANCE_KEYRING = clientKeyring("glance");
export const STAGING_DIR = "/var/lib/glance/staging/";
export const TASKS_DIR = "/var/lib/glance/tasks_work_dir/";

export function glanceSections(ctx: RenderContext, host: ResolvedHost): DocSection[] {
  const port = String(ctx.topology.endpoints.glance?.port ?? GLANCE_PORT);
  return [
    {
      name: "DEFAULT",
      entries: [
        ["bind_host", host.ip],
        ["bind_port", port],
        // As many as the APIs' uwsgi processes: each eventlet worker holds its own pools.
        ["workers", String(workers(ctx.topology, 2))],
        // Interoperable import stages an upload on the disk of the controller that took it; the
        // import call may reach another one, which then hands it to this URL (Glance's
        // distributed import) instead of failing to find the staged data.
        ["worker_self_reference_url", `http://${host.ip}:${port}`],
        ["enabled_backends", `${STORE}:rbd`],
        // Nova and Cinder on the same Ceph clone an image copy-on-write (rbd clone) only when
        // Glance shows them its location; without it every boot from image and every volume
        // from image downloads and rewrites the whole image. It shows the pool and image id to
        // API users: in a private cloud that is the price of instant boots (Ceph's own advice).
        ["show_image_direct_url", "true"],
      ],
    },
    { name: "glance_store", entries: [["default_backend", STORE]] },
    {
      name: STORE,
      entries: [
        ["rbd_store_pool", IMAGES_POOL],
        // librados finds /etc/ceph/ceph.client.glance.keyring for this user by itself.
        ["rbd_store_user", "glance"],
        ["rbd_store_ceph_conf", "/etc/ceph/ceph.conf"],
        // MiB per RADOS object (Ceph's own object size).
        ["rbd_store_chunk_size", "8"],
      ],
    },
    // Multi-store needs the two reserved filesystem stores configured, each in its own
    // directory (glance's multistores.rst): staging for interoperable import, tasks for
    // conversions. Both stay on the controller's disk: only transit data lives there.
    { name: "os_glance_staging_store", entries: [["filesystem_store_datadir", STAGING_DIR]] },
    { name: "os_glance_tasks_store", entries: [["filesystem_store_datadir", TASKS_DIR]] },
    { name: "paste_deploy", entries: [["flavor", "keystone"]] },
    // HAProxy in front: the scheme and client address of a request come from X-Forwarded-*.
    { name: "oslo_middleware", entries: [["enable_proxy_headers_parsing", "true"]] },
  ];
}

/** Glance enabled without Ceph configured is an inventory error (ceph/required.ts). */
export const checkGlanceStore = requireCeph("glance", "images");
