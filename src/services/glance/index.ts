import { openstackService } from "../openstack/service.ts";
import { glanceProbes } from "./health.ts";
import { checkGlanceStore, GLANCE_PORT, glanceSections } from "./store.ts";

/**
 * Glance: Debian runs glance-api as its own daemon (its uwsgi mode is off in trixie's package),
 * so it binds through glance-api.conf. The image store is Ceph RBD (store.ts), so Glance requires
 * Ceph configured (an inventory error otherwise) and deploys after it: the images pool and the
 * client.glance key, readable by the glance group, exist before glance-api starts.
 */
export const glance = openstackService({
  id: "glance",
  title: "Glance image API",
  state: "implemented",
  requires: ["keystone", "ceph"],
  after: ["keystone", "ceph"],
  endpoints: [{ id: "glance", port: GLANCE_PORT, path: "" }],
  // GET / answers 300 Multiple Choices (the version list): HAProxy counts 3xx as up.
  listeners: [
    // Uploads are long: a check failing under load must not cut them (spec.ts).
    { endpoint: "glance", name: "glance_api", check: { kind: "http", path: "/" }, keepSessionsOnDown: true },
  ],
  components: [
    { name: "glance-api", role: "controller", packages: ["glance-api"], units: ["glance-api.service"] },
  ],
  database: { names: ["glance"] },
  amqp: true,
  identity: { type: "image", description: "OpenStack Image", endpoint: "glance" },
  check: checkGlanceStore,
  config: [
    {
      path: "/etc/glance/glance-api.conf",
      owner: "glance",
      group: "glance",
      sections: ["database", "keystone_authtoken", "oslo_messaging_rabbit", "oslo_concurrency", "cache"],
      own: glanceSections,
      restart: ["glance-api"],
    },
  ],
  // `db check` exits 0 when current, 3/4/5 when an expand, migrate or contract is due; `db sync`
  // runs all three offline (glance-manage reads glance-api.conf).
  sync: {
    user: "glance",
    check: { kind: "exit-code", argv: ["glance-manage", "db", "check"], current: 0, behind: [3, 4, 5] },
    apply: ["glance-manage", "db", "sync"],
    memo: { package: "python3-glance", databases: ["glance"] },
  },
  start: { units: ["glance-api.service"], answers: { endpoint: "glance", path: "/", status: 300 } },
  tokenProbe: { endpoint: "glance", path: "/v2/images", status: 200 },
  health: glanceProbes,
});
