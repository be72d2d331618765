import { openstackService } from "../openstack/service.ts";

/**
 * Glance: Debian runs glance-api as its own daemon (its uwsgi mode is off in trixie's package),
 * so it binds through glance-api.conf. The image store is shared (Ceph RBD, with the Ceph
 * issue), never a local file store behind a load balancer (runbook E10).
 */
export const glance = openstackService({
  id: "glance",
  title: "Glance image API",
  state: "declared",
  requires: ["keystone"],
  after: ["keystone"],
  endpoints: [{ id: "glance", port: 9292, path: "" }],
  listeners: [{ endpoint: "glance", name: "glance_api", check: { kind: "http", path: "/" } }],
  components: [
    { name: "glance-api", role: "controller", packages: ["glance-api"], units: ["glance-api.service"] },
  ],
  database: { names: ["glance"] },
  amqp: true,
  identity: { type: "image", description: "OpenStack Image", endpoint: "glance" },
  config: [
    {
      path: "/etc/glance/glance-api.conf",
      owner: "glance",
      group: "glance",
      sections: ["database", "keystone_authtoken", "oslo_messaging_rabbit", "oslo_concurrency", "cache"],
      own: (ctx, host) => [
        {
          name: "DEFAULT",
          entries: [
            ["bind_host", host.ip],
            ["bind_port", String(ctx.topology.endpoints.glance?.port ?? 9292)],
          ],
        },
        { name: "paste_deploy", entries: [["flavor", "keystone"]] },
      ],
      restart: ["glance-api"],
    },
  ],
  steps: [
    { id: "db-sync", title: "glance-manage db_sync", on: "bootstrap", after: ["database"] },
    {
      id: "start",
      title: "Start glance-api; wait until HAProxy sees every backend up",
      on: "each",
      after: ["db-sync"],
    },
  ],
});
