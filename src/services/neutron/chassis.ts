/**
 * @module
 * What makes a host an OVN chassis, in its local Open vSwitch database: its name (system-id),
 * where the southbound database is, its tunnel endpoint, the provider bridge and, on the
 * controllers, that it may host routers' gateway ports. ovn-controller reads all of it from
 * Open_vSwitch external_ids and registers the chassis in the southbound database.
 */
import { z } from "zod";
import { parseToolJson, parseToolOutput } from "../../hostkit/command.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { PHYSNET, PROVIDER_BRIDGE } from "./config.ts";
import { ovnRemotes } from "./ovn-central.ts";

/**
 * ovn-controller's probe of its southbound server: OVN's default. It was 60 s, so a compute
 * connected to a powered-off controller's southbound server would notice only after 60-120 s,
 * as neutron-server did in the under-load drill's run 7 (docs/tuning.md; not measured for
 * ovn-controller itself). A reconnect costs a full recompute, small at a lab's scale; a large
 * site with a busy southbound server may want it longer.
 */
export const OVN_REMOTE_PROBE_MS = 5_000;

/**
 * The Geneve endpoint: the inventory has no tunnel network, so it is the management address.
 * (The userspace datapath sends tunnel traffic only from an address on an OVS netdev bridge; the
 * lab measured cross-host Geneve with a dedicated NIC on br-phy, which this does not build.)
 */
export function encapIp(host: ResolvedHost): string {
  return host.ip;
}

/**
 * Where local clients that are not root reach OVSDB: nova-compute's os-vif (as user nova) plugs
 * guests' taps into br-int through it, and Debian's ovsdb-server listens only on a root-only
 * socket. Loopback only, as Kolla and devstack set it.
 */
export const OVSDB_LOCAL_MANAGER = "ptcp:6640:127.0.0.1";

/** The NIC plugged into br-provider, when the host is on the provider network. */
export function providerInterface(host: ResolvedHost): string | undefined {
  return host.interfaces.provider;
}

/** Controllers are the gateway chassis: routers' external ports are scheduled among them. */
export function isGateway(host: ResolvedHost): boolean {
  return host.controllerIndex > 0;
}

/**
 * Open_vSwitch external_ids a chassis must have; a key mapped to undefined must be absent.
 * (ovn-bridge-datapath-type is datapathCommand's, in ovs.ts.)
 */
export function chassisExternalIds(
  topology: Topology,
  host: ResolvedHost,
): Record<string, string | undefined> {
  const nic = providerInterface(host);
  return {
    // The chassis name in the southbound database: the host's name, stable across OVS restarts.
    "system-id": host.name,
    // Chassis.hostname, which Neutron matches against a port's binding host (nova-compute's
    // CONF.host): ovs-record-hostname would record `hostname -f`, the FQDN from /etc/hosts, and a
    // port bound to the short name would then find no chassis.
    hostname: host.name,
    "ovn-remote": ovnRemotes(topology, "sb"),
    "ovn-remote-probe-interval": String(OVN_REMOTE_PROBE_MS),
    "ovn-encap-type": "geneve",
    "ovn-encap-ip": encapIp(host),
    "ovn-bridge-mappings": nic ? `${PHYSNET}:${PROVIDER_BRIDGE}` : undefined,
    "ovn-cms-options": isGateway(host) ? "enable-chassis-as-gw" : undefined,
  };
}

/** `ovs-vsctl --no-wait` arguments that set (or remove) each external_id, for one transaction. */
export function externalIdArgs(wanted: Record<string, string | undefined>): string[] {
  return Object.entries(wanted).flatMap(([key, value]) =>
    value === undefined
      ? ["--", "remove", "Open_vSwitch", ".", "external_ids", key]
      : ["--", "set", "Open_vSwitch", ".", `external_ids:${key}="${value}"`],
  );
}

/** Which external_ids differ from the wanted ones, as `key: have -> want` for the log. */
export function externalIdDrift(
  have: Readonly<Record<string, string>>,
  wanted: Record<string, string | undefined>,
): string[] {
  return Object.entries(wanted)
    .filter(([key, value]) => have[key] !== value)
    .map(([key, value]) => `${key}: ${have[key] ?? "(none)"} -> ${value ?? "(none)"}`);
}

export const OVS_SHOW = [
  "ovs-vsctl",
  "--format=json",
  "--columns=external_ids,other_config",
  "list",
  "Open_vSwitch",
];

// ovs-vsctl's JSON: a map column is ["map", [[key, value]...]]; one row for Open_vSwitch.
const OvsMap = z
  .tuple([z.literal("map"), z.array(z.tuple([z.string(), z.string()]))])
  .transform(([, pairs]) => Object.fromEntries(pairs) as Record<string, string>);
const OpenVswitchList = z.object({ data: z.tuple([z.tuple([OvsMap, OvsMap])]) });

export interface OvsState {
  external: Record<string, string>;
  other: Record<string, string>;
}

export function parseOvsState(t: Pick<Transport, "name">, stdout: string): OvsState {
  const tool = OVS_SHOW.join(" ");
  const json = parseToolJson(t, tool, stdout);
  const row = parseToolOutput(t, tool, OpenVswitchList, json).data[0];
  return { external: row[0], other: row[1] };
}

/** `ovs-vsctl --format=json --columns=name,hostname list Chassis` from ovn-sbctl: chassis names. */
const ChassisList = z.object({ data: z.array(z.tuple([z.string(), z.string()])) });

export function parseChassisNames(t: Pick<Transport, "name">, stdout: string): string[] {
  const tool = "ovn-sbctl list Chassis";
  return parseToolOutput(t, tool, ChassisList, parseToolJson(t, tool, stdout)).data.map(([name]) => name);
}

/** The southbound chassis list, asked of every server (any member answers reads). */
export function chassisListCommand(topology: Topology): string[] {
  return [
    "ovn-sbctl",
    `--db=${ovnRemotes(topology, "sb")}`,
    "--no-leader-only",
    "--timeout=20",
    "--format=json",
    "--columns=name,hostname",
    "list",
    "Chassis",
  ];
}
