import { openstackService } from "../openstack/service.ts";

/** Placement: Debian's uwsgi unit; it reads its database from [placement_database]. */
export const placement = openstackService({
  id: "placement",
  title: "Placement API",
  state: "declared",
  requires: ["keystone"],
  after: ["keystone"],
  endpoints: [{ id: "placement", port: 8778, path: "" }],
  listeners: [{ endpoint: "placement", name: "placement_api", check: { kind: "http", path: "/" } }],
  components: [
    {
      name: "placement-api",
      role: "controller",
      packages: ["placement-api"],
      units: ["placement-api.service"],
    },
  ],
  database: { names: ["placement"], sections: [{ section: "placement_database", name: "placement" }] },
  identity: { type: "placement", description: "Placement API", endpoint: "placement" },
  config: [
    {
      path: "/etc/placement/placement.conf",
      owner: "placement",
      group: "placement",
      sections: ["database", "keystone_authtoken", "oslo_concurrency"],
      own: () => [{ name: "api", entries: [["auth_strategy", "keystone"]] }],
      restart: ["placement-api"],
    },
  ],
  wsgi: [
    {
      kind: "uwsgi",
      unit: "placement-api",
      defaults: "placement-api",
      endpoint: "placement",
      ini: "/etc/placement/placement-api-uwsgi.ini",
      processes: 2,
      threads: 8,
    },
  ],
  steps: [
    { id: "db-sync", title: "placement-manage db sync", on: "bootstrap", after: ["database"] },
    {
      id: "start",
      title: "Start placement-api (uwsgi); wait until HAProxy sees every backend up",
      on: "each",
      after: ["db-sync"],
    },
  ],
});
