import { openstackService } from "../openstack/service.ts";

/**
 * Keystone: served by Debian's uwsgi unit on the management address. Its own steps (db sync,
 * keys, bootstrap) are names until the Keystone issue; the database step is the shared one.
 * Seen in the lab image: Debian's keystone-uwsgi.ini loads uwsgi's apparmor plugin with
 * `apparmor-profile = keystone`, and uwsgi exits at aa_change_profile in a container without
 * AppArmor (the lab's hosts): the Keystone issue must render its own ini (or drop the profile).
 */
export const keystone = openstackService({
  id: "keystone",
  title: "Keystone identity API",
  state: "declared",
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
  secrets: [{ name: "keystone_admin", kind: "password", description: "Keystone admin user password" }],
  database: { names: ["keystone"] },
  config: [
    {
      path: "/etc/keystone/keystone.conf",
      owner: "keystone",
      group: "keystone",
      sections: ["database", "cache"],
      own: () => [
        { name: "token", entries: [["provider", "fernet"]] },
        { name: "fernet_tokens", entries: [["key_repository", "/etc/keystone/fernet-keys/"]] },
        { name: "credential", entries: [["key_repository", "/etc/keystone/credential-keys/"]] },
      ],
      restart: ["keystone"],
    },
  ],
  wsgi: [
    {
      kind: "uwsgi",
      unit: "keystone",
      defaults: "keystone",
      endpoint: "keystone",
      ini: "/etc/keystone/keystone-uwsgi.ini",
      processes: 2,
      threads: 8,
    },
  ],
  steps: [
    { id: "db-sync", title: "keystone-manage db_sync", on: "bootstrap", after: ["database"] },
    // Fernet and credential keys must be identical on every controller (runbook E20).
    {
      id: "keys",
      title: "Create fernet and credential keys; copy them to every controller",
      on: "bootstrap",
      after: ["db-sync"],
    },
    {
      id: "bootstrap",
      title: "keystone-manage bootstrap (admin user, roles incl. service, its own endpoints)",
      on: "bootstrap",
      after: ["keys"],
    },
    {
      id: "start",
      title: "Start keystone (uwsgi); wait until HAProxy sees every backend up",
      on: "each",
      after: ["bootstrap"],
    },
  ],
});
