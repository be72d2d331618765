/**
 * @module
 * For tests: a toy OpenStack service, one folder's worth of data, added to the real registry with
 * no other file changed, and the lab example site that enables it (with Keystone, which it
 * requires). toy-service.test.ts and toy-daemons.test.ts check what it gets.
 */
import { generateSecret } from "../../inventory/secrets-file.ts";
import { exampleTopology } from "../../testing/fixtures.ts";
import { services } from "../registry.ts";
import { secretSpecs } from "../secret-specs.ts";
import type { ServiceDef } from "../types.ts";
import { openstackService } from "./service.ts";
import type { OpenStackServiceSpec } from "./spec.ts";

export const toySpec: OpenStackServiceSpec = {
  id: "toy",
  title: "Toy API",
  state: "implemented",
  requires: ["keystone"],
  after: ["keystone"],
  endpoints: [{ id: "toy", port: 9555, path: "/v1" }],
  listeners: [{ endpoint: "toy", name: "toy_api", check: { kind: "http", path: "/healthcheck" } }],
  components: [{ name: "toy-api", role: "controller", packages: ["python3"], units: ["toy-api.service"] }],
  database: { names: ["toy", "toy_api"] },
  amqp: true,
  identity: { type: "toy", description: "Toy service", endpoint: "toy" },
  config: [
    {
      path: "/etc/toy/toy.conf",
      owner: "root",
      group: "root",
      sections: [
        "database",
        "keystone_authtoken",
        "oslo_messaging_rabbit",
        "oslo_concurrency",
        "cache",
        "coordination",
      ],
      own: (_ctx, host) => [{ name: "DEFAULT", entries: [["my_ip", host.ip]] }],
      restart: ["toy-api"],
    },
  ],
  wsgi: [
    {
      kind: "uwsgi",
      unit: "toy-api",
      defaults: "toy-api",
      endpoint: "toy",
      ini: "/etc/toy/uwsgi.ini",
      processes: 1,
      threads: 2,
    },
  ],
};
export const toy = openstackService(toySpec);
export const registry: ServiceDef[] = [...services, toy];
export const topology = exampleTopology(
  "lab",
  (inv) => {
    inv.services = { ...inv.services, openstack: { enabled: ["keystone", "toy"] } };
  },
  registry,
);
export const secrets = Object.fromEntries(
  secretSpecs(registry).map((s) => [s.name, generateSecret(s.kind, s.length)]),
);
export const controllers = topology.hosts.filter((h) => h.controllerIndex > 0);
export const CONF = "/etc/toy/toy.conf";
export const HAPROXY = "/etc/haproxy/haproxy.cfg";
export const step = (id: string) => {
  const found = toy.steps?.(topology, registry).find((s) => s.id === id);
  if (!found) throw new Error(`toy has no step ${id}`);
  return found;
};
