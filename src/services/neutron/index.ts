import { controllerNames } from "../hosts.ts";
import { openstackService } from "../openstack/service.ts";
import type { FileSpec } from "../types.ts";
import { agentsStep } from "./agents-step.ts";
import { chassisStep } from "./chassis-step.ts";
import {
  computeSections,
  METADATA_AGENT_CONF,
  METADATA_SECRET,
  ML2_CONF,
  metadataAgentConf,
  ml2Conf,
  NEUTRON_CONF,
  serverSections,
} from "./config.ts";
import { dbSyncStep } from "./db-sync.ts";
import { fenceHookFiles, fenceHookPacemaker } from "./fence-hook.ts";
import { neutronProbes } from "./health.ts";
import { libvirtTapHook } from "./libvirt-hook.ts";
import { OVN_CENTRAL_DEFAULTS, ovnCentralDefaults } from "./ovn-central.ts";
import { ovnClusterStep } from "./ovn-step.ts";
import { NeutronSettings, neutronSettings } from "./settings.ts";
import { WORKER_UNITS, workerUnitFiles } from "./worker-units.ts";

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
 * The server processes: since 2025.1 the API runs only under uwsgi, and the periodic tasks and
 * ML2/OVN's maintenance (Neutron/OVN database consistency) run as their own daemons (Debian 13
 * packages each); the RPC server answers agents over RabbitMQ.
 */
const PACKAGED_SERVER_UNITS = ["neutron-api.service", "neutron-rpc-server.service"];
/** With the two workers whose units hastack writes (worker-units.ts: no Debian package has them). */
const SERVER_UNITS = [...PACKAGED_SERVER_UNITS, ...WORKER_UNITS];
const SERVER_RESTART = SERVER_UNITS.map((u) => u.replace(/\.service$/, ""));
const OWN_FILE = { owner: "root", group: "neutron", mode: 0o640 } as const;

/**
 * Neutron with ML2/OVN: 2025.1 has no Linux bridge driver (Debian 13's package is empty; see
 * lab-feasibility-compute-vms-ovn). The API is Debian's uwsgi unit `neutron-api`, whose init
 * script is named neutron-server (so is its /etc/default file). OVN's databases are Raft
 * clusters of the controllers (ovn-step.ts); every controller and compute is a chassis, the
 * controllers the gateways (chassis-step.ts); the computes run the OVN metadata agent.
 */
export const neutron = openstackService({
  id: "neutron",
  title: "Neutron networking API (ML2/OVN)",
  state: "implemented",
  requires: ["keystone"],
  after: ["keystone"],
  // The OVS datapath of the OVN chassis (ovs.ts renders what it sets), OVN's own options.
  settings: { neutron: NeutronSettings },
  endpoints: [{ id: "neutron", port: 9696, path: "" }],
  listeners: [{ endpoint: "neutron", name: "neutron_api", check: { kind: "http", path: "/" } }],
  components: [
    {
      name: "neutron-server",
      role: "controller",
      // python3-neutron, pulled in by these, carries the two workers' programs. Not
      // neutron-plugin-ml2: a virtual package (neutron-common provides it), which apt "installs"
      // and dpkg never lists as installed.
      packages: ["neutron-api", "neutron-rpc-server"],
      units: PACKAGED_SERVER_UNITS,
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
    // The Pacemaker alert agent that handles a fenced controller runs as hacluster and hands the
    // work to root through one sudo rule (fence-hook.ts).
    { name: "neutron-fence-hook", role: "controller", packages: ["sudo"], units: [] },
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
  // Nova declares the same secret (its metadata API checks what the agents sign); one value.
  secrets: [
    {
      name: METADATA_SECRET,
      kind: "password",
      description: "shared secret of the Nova metadata API and Neutron's metadata agent",
    },
  ],
  database: { names: ["neutron"] },
  amqp: true,
  identity: { type: "network", description: "OpenStack Networking", endpoint: "neutron" },
  config: [
    {
      path: NEUTRON_CONF,
      owner: "root",
      group: "neutron",
      sections: ["database", "keystone_authtoken", "oslo_messaging_rabbit", "oslo_concurrency", "cache"],
      own: (ctx) => serverSections(ctx),
      restart: SERVER_RESTART,
    },
    {
      // Computes: the metadata agent's init script reads it first; no credentials in it.
      path: NEUTRON_CONF,
      owner: "root",
      group: "neutron",
      roles: ["compute"],
      sections: ["oslo_concurrency"],
      own: () => computeSections(),
      restart: ["neutron-ovn-metadata-agent"],
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
  files: (ctx, host) => {
    const out: FileSpec[] = [
      // The chassis name ovs-ctl sets at every start (its --system-id=random reads this file):
      // the host's name, never a UUID that changes when the file is lost.
      {
        path: "/etc/openvswitch/system-id.conf",
        owner: "root",
        group: "root",
        mode: 0o644,
        content: `${host.name}\n`,
      },
    ];
    if (host.controllerIndex > 0)
      out.push(
        ...workerUnitFiles(),
        ...fenceHookFiles(),
        {
          path: ML2_CONF,
          ...OWN_FILE,
          content: ml2Conf(ctx.topology, host),
          onChange: { restart: SERVER_RESTART },
        },
        {
          path: OVN_CENTRAL_DEFAULTS,
          owner: "root",
          group: "root",
          mode: 0o644,
          content: ovnCentralDefaults(ctx.topology, host),
          // PartOf: restarting ovn-central restarts both database servers and northd.
          onChange: { restart: ["ovn-central"] },
        },
      );
    if (host.roles.includes("compute") && neutronSettings(ctx.topology).datapath === "userspace")
      out.push(libvirtTapHook());
    if (host.roles.includes("compute"))
      out.push({
        path: METADATA_AGENT_CONF,
        ...OWN_FILE,
        content: metadataAgentConf(ctx, host),
        onChange: { restart: ["neutron-ovn-metadata-agent"] },
      });
    return out;
  },
  start: { units: SERVER_UNITS, answers: { endpoint: "neutron", path: "/", status: 200 } },
  steps: (topology) => {
    const controllers = controllerNames(topology);
    const computes = topology.roles.compute;
    const chassis = topology.hosts
      .filter((h) => h.controllerIndex > 0 || h.roles.includes("compute"))
      .map((h) => h.name);
    return [
      ovnClusterStep(controllers),
      dbSyncStep,
      { id: "start", title: "neutron-api and the server daemons", on: "each", after: ["db-sync", "ovn"] },
      { ...chassisStep(chassis), after: ["ovn"] },
      { ...agentsStep(computes), after: ["chassis", "start"] },
    ];
  },
  // The service user's own project: an empty list or its networks, 200, through HAProxy.
  pacemaker: () => fenceHookPacemaker(),
  tokenProbe: { endpoint: "neutron", path: "/v2.0/networks", status: 200 },
  health: neutronProbes,
});
