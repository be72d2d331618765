import { requireCeph } from "../ceph/required.ts";
import { alembicHeadCheck } from "../openstack/alembic.ts";
import { openstackService } from "../openstack/service.ts";
import { CINDER_PORT, cinderSections } from "./config.ts";
import { cinderProbes, servicesUpStep } from "./services.ts";

/**
 * Cinder: the API under Debian's uwsgi unit, scheduler, volume and backup on every controller.
 * cinder-volume runs active/active on Ceph RBD: one `cluster` name and tooz locks on etcd
 * ([coordination]; the runbook deployed etcd and used it for nothing, E16). Volumes and backups
 * live in Ceph, so Cinder requires it (config.ts) and deploys after it: the pools and the
 * client.cinder key, readable by the cinder group, exist before cinder-volume starts.
 */
const UNITS = [
  "cinder-api.service",
  "cinder-scheduler.service",
  "cinder-volume.service",
  "cinder-backup.service",
];

export const cinder = openstackService({
  id: "cinder",
  title: "Cinder block storage API, scheduler, volume and backup services",
  state: "implemented",
  requires: ["keystone", "ceph"],
  after: ["keystone", "ceph", "glance"],
  endpoints: [{ id: "cinder", port: CINDER_PORT, path: "/v3" }],
  // GET / answers 300 Multiple Choices (the version list): HAProxy counts 3xx as up.
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
    {
      name: "cinder-backup",
      role: "controller",
      packages: ["cinder-backup"],
      units: ["cinder-backup.service"],
    },
  ],
  database: { names: ["cinder"] },
  amqp: true,
  check: requireCeph("cinder", "volumes and backups"),
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
      own: cinderSections,
      restart: ["cinder-api", "cinder-scheduler", "cinder-volume", "cinder-backup"],
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
  // cinder-manage has no check of its own: the stored alembic revision against the head of the
  // installed code's migration scripts (read without the database), as for Placement.
  sync: {
    user: "cinder",
    check: alembicHeadCheck({
      current: ["cinder-manage", "db", "version"],
      module: "cinder.db",
      config: "_find_alembic_conf()",
    }),
    apply: ["cinder-manage", "db", "sync"],
    memo: { package: "python3-cinder", databases: ["cinder"] },
  },
  start: { units: UNITS, answers: { endpoint: "cinder", path: "/", status: 300 } },
  steps: [servicesUpStep],
  // The service user's own project: an empty list, 200, through HAProxy and keystonemiddleware.
  tokenProbe: { endpoint: "cinder", path: "/volumes", status: 200 },
  health: cinderProbes,
});
