import { serviceAuth } from "../openstack/oslo.ts";
import { openstackService } from "../openstack/service.ts";
import { NeutronSettings } from "./settings.ts";

/** An OVN chassis: ovn-controller on Open vSwitch (compute hosts, and controllers as gateways). */
const OVN_CHASSIS_PACKAGES = ["ovn-host", "openvswitch-switch"];
/**
 * openvswitch-switch.service is a oneshot requiring ovsdb-server and ovs-vswitchd; enabling it
 * also enables ovs-record-hostname (Also=), which `systemctl enable` refuses while that is masked.
 */
const OVN_CHASSIS_UNITS = [
  "openvswitch-switch.service",
  "ovsdb-server.service",
  "ovs-vswitchd.service",
  "ovs-record-hostname.service",
  "ovn-host.service",
  "ovn-controller.service",
];

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
  // The OVS datapath of the OVN chassis (ovs.ts renders what it sets).
  settings: { neutron: NeutronSettings },
  endpoints: [{ id: "neutron", port: 9696, path: "" }],
  listeners: [{ endpoint: "neutron", name: "neutron_api", check: { kind: "http", path: "/" } }],
  components: [
    {
      name: "neutron-server",
      role: "controller",
      packages: ["neutron-api", "neutron-rpc-server", "neutron-plugin-ml2"],
      units: ["neutron-api.service", "neutron-rpc-server.service"],
    },
    // Debian's ovn-central.service is a oneshot that wants northd and the NB/SB ovsdb-servers.
    {
      name: "ovn-central",
      role: "controller",
      packages: ["ovn-central"],
      units: [
        "ovn-central.service",
        "ovn-northd.service",
        "ovn-ovsdb-server-nb.service",
        "ovn-ovsdb-server-sb.service",
      ],
    },
    // Controllers are the gateway chassis (routers' external ports fail over between them).
    { name: "ovn-gateway", role: "controller", packages: OVN_CHASSIS_PACKAGES, units: OVN_CHASSIS_UNITS },
    { name: "ovn-controller", role: "compute", packages: OVN_CHASSIS_PACKAGES, units: OVN_CHASSIS_UNITS },
    // The agent spawns one haproxy per network namespace as the metadata proxy; Debian's
    // package does not depend on haproxy.
    {
      name: "neutron-ovn-metadata-agent",
      role: "compute",
      packages: ["neutron-ovn-metadata-agent", "haproxy"],
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
