import { openstackService } from "../openstack/service.ts";

/**
 * Cinder: API (Debian's uwsgi unit) and scheduler on the controllers, and cinder-volume there too,
 * active/active on Ceph RBD: one `cluster` name and tooz locks on etcd ([coordination]; the
 * runbook deployed etcd and used it for nothing, E16).
 */
export const cinder = openstackService({
  id: "cinder",
  title: "Cinder block storage API, scheduler and volume service",
  state: "declared",
  requires: ["keystone"],
  after: ["keystone"],
  endpoints: [{ id: "cinder", port: 8776, path: "/v3" }],
  // GET / answers 300 Multiple Choices: HAProxy counts 3xx as up.
  listeners: [{ endpoint: "cinder", name: "cinder_api", check: { kind: "http", path: "/" } }],
  components: [
    { name: "cinder-api", role: "controller", packages: ["cinder-api"], units: ["cinder-api.service"] },
    {
      name: "cinder-scheduler",
      role: "controller",
      packages: ["cinder-scheduler"],
      units: ["cinder-scheduler.service"],
    },
    {
      name: "cinder-volume",
      role: "controller",
      packages: ["cinder-volume", "python3-etcd3gw"],
      units: ["cinder-volume.service"],
    },
  ],
  database: { names: ["cinder"] },
  amqp: true,
  identity: { type: "volumev3", description: "OpenStack Block Storage", endpoint: "cinder" },
  config: [
    {
      path: "/etc/cinder/cinder.conf",
      owner: "cinder",
      group: "cinder",
      sections: [
        "database",
        "keystone_authtoken",
        "oslo_messaging_rabbit",
        "oslo_concurrency",
        "cache",
        "coordination",
      ],
      own: (ctx, host) => [
        {
          name: "DEFAULT",
          entries: [
            ["my_ip", host.ip],
            ["auth_strategy", "keystone"],
            // Every cinder-volume of the site is one active/active cluster.
            ["cluster", `${ctx.topology.cluster}-volume`],
          ],
        },
      ],
      restart: ["cinder-api", "cinder-scheduler", "cinder-volume"],
    },
  ],
  wsgi: [
    {
      kind: "uwsgi",
      unit: "cinder-api",
      defaults: "cinder-api",
      endpoint: "cinder",
      ini: "/etc/cinder/cinder-api-uwsgi.ini",
      processes: 2,
      threads: 8,
    },
  ],
  steps: [
    { id: "db-sync", title: "cinder-manage db sync", on: "bootstrap", after: ["database"] },
    {
      id: "start",
      title: "Start the Cinder services; wait until HAProxy sees every backend up",
      on: "each",
      after: ["db-sync"],
    },
  ],
});
