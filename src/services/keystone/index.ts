import type { Topology } from "../../topology/types.ts";
import { openstackService } from "../openstack/service.ts";
import type { ServiceDef } from "../types.ts";
import { KEYSTONE_CONF, keystoneSections, MANAGE_CONF, manageConf, UWSGI_INI, uwsgiIni } from "./config.ts";
import { CREDENTIAL_SECRET, FERNET_SECRET } from "./fernet.ts";
import { keystoneProbes } from "./health.ts";
import { KEYSTONE_DEMO_SECRET } from "./openrc.ts";
import { keystoneSteps } from "./steps.ts";

/**
 * Keystone, active/active on every controller behind the VIP: Debian's uwsgi unit bound to the
 * management address (/etc/default/keystone, wsgi.ts) with hastack's own uwsgi ini (the
 * package's loads an AppArmor profile that does not exist: config.ts), Fernet tokens with keys
 * derived from the secrets identically on every controller (fernet.ts), rotated by
 * `hastack keystone rotate-keys` (rotate.ts).
 */
const base = openstackService({
  id: "keystone",
  title: "Keystone identity API",
  state: "implemented",
  requires: [],
  after: ["galera", "rabbitmq", "memcached", "etcd", "haproxy"],
  endpoints: [{ id: "keystone", port: 5000, path: "/v3" }],
  listeners: [{ endpoint: "keystone", name: "keystone_api", check: { kind: "http", path: "/v3" } }],
  components: [
    {
      name: "keystone",
      role: "controller",
      // The client drives the Keystone registration of every other service (openstacksdk).
      packages: ["keystone", "python3-openstackclient"],
      units: ["keystone.service"],
    },
  ],
  secrets: [
    { name: "keystone_admin", kind: "password", description: "Keystone admin user password" },
    { name: KEYSTONE_DEMO_SECRET, kind: "password", description: "Keystone demo user password" },
    {
      name: FERNET_SECRET,
      kind: "hex-32",
      description: "Seed of Keystone's Fernet token keys, :generation after rotations (rotate-keys)",
    },
    { name: CREDENTIAL_SECRET, kind: "hex-32", description: "Seed of Keystone's credential encryption keys" },
  ],
  database: { names: ["keystone"] },
  config: [
    {
      path: KEYSTONE_CONF,
      // Readable by keystone, never writable by it.
      owner: "root",
      group: "keystone",
      sections: ["database", "cache"],
      own: () => keystoneSections(),
      restart: ["keystone"],
    },
  ],
  wsgi: [
    {
      kind: "uwsgi",
      unit: "keystone",
      defaults: "keystone",
      endpoint: "keystone",
      ini: UWSGI_INI,
      processes: 2,
      threads: 8,
    },
  ],
  files: () => [
    {
      path: UWSGI_INI,
      owner: "root",
      group: "root",
      mode: 0o644,
      content: uwsgiIni(),
      onChange: { restart: ["keystone"] },
    },
    { path: MANAGE_CONF, owner: "root", group: "keystone", mode: 0o640, content: manageConf() },
  ],
  steps: keystoneSteps,
});

export const keystone: ServiceDef = {
  ...base,
  // `services` is optional: the catalogue probe expects every deployed service when the engine passes them.
  health: (topology: Topology, services?: readonly ServiceDef[]) => [
    ...(base.health?.(topology) ?? []),
    ...keystoneProbes(topology, services),
  ],
};
