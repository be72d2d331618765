import type { Bmc, Inventory, NetworkName, Role, ServicesBlock, TlsMode } from "../inventory/schema.ts";

/**
 * The resolved topology (Vite's ResolvedConfig): every default applied, every host's addresses
 * known, bootstrap nodes chosen. Renderers, deploy steps and health probes read only this.
 */
export interface Topology {
  cluster: string;
  release: "2025.1";
  platform: "debian-13";
  domain: string;
  /** Absolute path of the inventory file this was resolved from. */
  source: string;
  /** Absolute path of the secrets file. */
  secretsFile: string;
  networks: Partial<Record<NetworkName, ResolvedNetwork>>;
  hosts: ResolvedHost[];
  /** Host names per role, in inventory order. */
  roles: Record<Role, string[]>;
  vips: ResolvedVips;
  vipManager: "pacemaker" | "keepalived";
  /** TLS on the public VIP (HAProxy terminates it); internal endpoints stay HTTP. */
  tls: { public: TlsMode };
  /** First controller in inventory order bootstraps every clustered service. */
  bootstrap: string;
  /** `services:` of the inventory with defaults applied; each service reads its own block. */
  settings: ServicesBlock;
  instanceHa: Inventory["instance_ha"];
  /** `workers`: the processes of every API and RPC service when the inventory sets them. */
  openstack: { enabled: string[]; region: string; workers?: number };
  /** The API catalogue, assembled from the enabled services' endpoints. */
  endpoints: Record<string, Endpoint>;
  overrides: Inventory["overrides"];
  /** What the operator accepted on purpose, with why: status repeats them on every run. */
  waivers: Inventory["waivers"];
}

export interface ResolvedNetwork {
  name: NetworkName;
  cidr: string;
  /** Network address, e.g. 10.20.0.0 */
  address: string;
  prefix: number;
  vlan?: number;
  gateway?: string;
  mtu?: number;
}

export interface ResolvedHost {
  name: string;
  fqdn: string;
  roles: Role[];
  /** The host's address on each network it is on. */
  addresses: Partial<Record<NetworkName, string>>;
  /** Management address: where everything that is not storage or tenant traffic binds. */
  ip: string;
  interfaces: Partial<Record<NetworkName, string>>;
  ssh: { user: string; port: number; key?: string; knownHosts?: string };
  bmc?: Bmc;
  /** 1-based index among controllers (corosync nodeid, galera/etcd member order); 0 when not one. */
  controllerIndex: number;
}

export interface ResolvedVips {
  internal: string;
  public: string;
  publicHost: string;
  /** Dedicated VIP per service, when the inventory asks for one. */
  services: Record<string, string>;
}

export interface Endpoint {
  service: string;
  port: number;
  /** URL path suffix, e.g. "/v3" for Keystone. */
  path: string;
  internal: string;
  /** https on the public VIP when the site has TLS there. */
  public: string;
  /** The port of the public URL: the endpoint's own, or its TLS port (Horizon: 443). */
  publicPort: number;
}

export function hostByName(topology: Topology, name: string): ResolvedHost {
  const host = topology.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`Cannot find host ${name} in the topology`);
  return host;
}

export function hostsWithRole(topology: Topology, role: Role): ResolvedHost[] {
  let byRole = hostsByRole.get(topology.hosts);
  if (!byRole) {
    byRole = { controller: [], compute: [], storage: [] };
    for (const host of topology.hosts) for (const r of new Set(host.roles)) byRole[r].push(host);
    hostsByRole.set(topology.hosts, byRole);
  }
  return [...byRole[role]];
}

/**
 * Hosts per role, by host list. Renderers ask for a role's hosts once per host they render, and a
 * filter of every host each time was quadratic (14 s of a 5,000-compute render). Keyed by the
 * `hosts` array: nothing changes a topology once resolved, and a copy with other hosts has its own
 * array. Callers get a copy, free to sort or change it.
 */
const hostsByRole = new WeakMap<readonly ResolvedHost[], Record<Role, ResolvedHost[]>>();

/** The VIP a service is reached at: its own when the inventory gives one, else the internal VIP. */
export function vipFor(topology: Topology, service: string): string {
  return topology.vips.services[service] ?? topology.vips.internal;
}
