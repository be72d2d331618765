import { serviceAuth } from "../openstack/oslo.ts";
import { openstackService } from "../openstack/service.ts";

/**
 * Neutron with ML2/OVN: 2025.1 has no Linux bridge driver (Debian 13's package is empty; see
 * lab-feasibility-compute-vms-ovn). The API is Debian's uwsgi unit `neutron-api`, whose init
 * script is named neutron-server (so is its /etc/default file).
 */
export const neutron = openstackService({
  id: "neutron",
  title: "Neutron networking API (ML2/OVN)",
  state: "declared",
  requires: ["keystone"],
  after: ["keystone"],
  endpoints: [{ id: "neutron", port: 9696, path: "" }],
  listeners: [{ endpoint: "neutron", name: "neutron_api", check: { kind: "http", path: "/" } }],
  components: [
    {
      name: "neutron-server",
      role: "controller",
      packages: ["neutron-api", "neutron-rpc-server", "neutron-plugin-ml2"],
      units: ["neutron-api.service", "neutron-rpc-server.service"],
    },
    { name: "ovn-central", role: "controller", packages: ["ovn-central"], units: ["ovn-central.service"] },
    {
      name: "ovn-controller",
      role: "compute",
      packages: ["ovn-host", "openvswitch-switch"],
      units: ["ovn-controller.service", "openvswitch-switch.service"],
    },
    {
      name: "neutron-ovn-metadata-agent",
      role: "compute",
      packages: ["neutron-ovn-metadata-agent"],
      units: ["neutron-ovn-metadata-agent.service"],
    },
  ],
  database: { names: ["neutron"] },
  amqp: true,
  identity: { type: "network", description: "OpenStack Networking", endpoint: "neutron" },
  config: [
    {
      path: "/etc/neutron/neutron.conf",
      owner: "root",
      group: "neutron",
      sections: ["database", "keystone_authtoken", "oslo_messaging_rabbit", "oslo_concurrency", "cache"],
      own: (ctx) => [
        {
          name: "DEFAULT",
          entries: [
            ["core_plugin", "ml2"],
            ["service_plugins", "ovn-router"],
            ["auth_strategy", "keystone"],
            ["notify_nova_on_port_status_changes", "true"],
            ["notify_nova_on_port_data_changes", "true"],
          ],
        },
        serviceAuth(ctx, "nova", "neutron", [["endpoint_type", "internal"]]),
        serviceAuth(ctx, "placement", "neutron", [["valid_interfaces", "internal"]]),
      ],
      restart: ["neutron-api", "neutron-rpc-server"],
    },
  ],
  wsgi: [
    {
      kind: "uwsgi",
      unit: "neutron-api",
      defaults: "neutron-server",
      endpoint: "neutron",
      ini: "/etc/neutron/neutron-api-uwsgi.ini",
      processes: 2,
      threads: 8,
    },
  ],
  steps: [
    { id: "db-sync", title: "neutron-db-manage upgrade heads", on: "bootstrap", after: ["database"] },
    { id: "ovn", title: "Cluster the OVN northbound and southbound databases", on: "bootstrap" },
    {
      id: "start",
      title: "Start neutron-api and the RPC server; wait until HAProxy sees every backend up",
      on: "each",
      after: ["db-sync", "ovn"],
    },
    {
      id: "agents",
      title: "ovn-controller and the OVN metadata agent on the computes",
      on: "each",
      after: ["start"],
    },
  ],
});
