import { alembicHeadCheck } from "../openstack/alembic.ts";
import { openstackService } from "../openstack/service.ts";

/**
 * Placement: Debian's uwsgi unit (placement-api, the package's ini, bound to the management
 * address by /etc/default/placement-api); it reads its database from [placement_database].
 */
export const placement = openstackService({
  id: "placement",
  title: "Placement API",
  state: "implemented",
  requires: ["keystone"],
  after: ["keystone"],
  endpoints: [{ id: "placement", port: 8778, path: "" }],
  // GET / answers 200 with the version document, without a token (placement/auth.py lets / through).
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
      own: () => [
        { name: "api", entries: [["auth_strategy", "keystone"]] },
        // HAProxy in front: the scheme and client address of a request come from X-Forwarded-*.
        { name: "oslo_middleware", entries: [["enable_proxy_headers_parsing", "true"]] },
      ],
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
  // placement-manage has no "is it current" check: `db version` prints the stored alembic
  // revision ("None" before the first sync), and the head the installed code knows is read from
  // its migration scripts (no database access), so the step compares the two.
  sync: {
    user: "placement",
    check: alembicHeadCheck({
      current: ["placement-manage", "db", "version"],
      module: "placement.db.sqlalchemy",
      config: "_alembic_config()",
    }),
    apply: ["placement-manage", "db", "sync"],
    memo: { package: "python3-placement", databases: ["placement"] },
  },
  start: { units: ["placement-api.service"], answers: { endpoint: "placement", path: "/", status: 200 } },
  // An admin-only listing (the service user has admin in the service project): a token that
  // keystonemiddleware on the API side could not validate would give 401, a policy problem 403.
  tokenProbe: { endpoint: "placement", path: "/resource_providers", status: 200 },
});
