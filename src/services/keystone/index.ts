import { apiService } from "../openstack-api.ts";

export const keystone = apiService({
  id: "keystone",
  title: "Keystone identity API",
  after: ["etcd"],
  listeners: [{ endpoint: "keystone", name: "keystone_api", check: { kind: "http", path: "/v3" } }],
  secrets: [
    { name: "db_keystone", kind: "password", description: "MariaDB password of the keystone database user" },
    { name: "keystone_admin", kind: "password", description: "Keystone admin user password" },
  ],
  packages: ["keystone", "apache2", "libapache2-mod-wsgi-py3", "python3-openstackclient"],
  steps: [
    { id: "database", title: "Create the keystone database and user", on: "bootstrap" },
    { id: "config", title: "Write keystone.conf and the Apache vhost on the management address", on: "each" },
    { id: "db-sync", title: "keystone-manage db_sync", on: "bootstrap", after: ["database", "config"] },
    // Fernet and credential keys must be identical on every controller (runbook E20).
    {
      id: "keys",
      title: "Create fernet and credential keys; copy them to every controller",
      on: "bootstrap",
      after: ["db-sync"],
    },
    {
      id: "bootstrap",
      title: "keystone-manage bootstrap (admin user, endpoints)",
      on: "bootstrap",
      after: ["keys"],
    },
    {
      id: "start",
      title: "Restart Apache; wait until HAProxy sees every backend up",
      on: "each",
      after: ["bootstrap"],
    },
  ],
});
