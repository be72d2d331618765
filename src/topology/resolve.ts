import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import type { Inventory, NetworkName, Role } from "../inventory/schema.ts";
import type { ServiceDef } from "../services/types.ts";
import { parseCidr } from "../util/ip.ts";
import type { Endpoint, ResolvedHost, ResolvedNetwork, Topology } from "./types.ts";

export interface ResolveOptions {
  /** Absolute path of the inventory file. */
  source: string;
  /** The site's services: their endpoints make up the API catalogue. */
  services: readonly ServiceDef[];
}

export function resolveTopology(inv: Inventory, options: ResolveOptions): Topology {
  const source = resolve(options.source);
  const base = dirname(source);
  const networks: Partial<Record<NetworkName, ResolvedNetwork>> = {};
  for (const [name, net] of Object.entries(inv.networks) as [
    NetworkName,
    Inventory["networks"]["management"],
  ][]) {
    if (!net) continue;
    const cidr = parseCidr(net.cidr);
    networks[name] = { name, cidr: net.cidr, address: cidr.address, prefix: cidr.prefix, ...pick(net) };
  }

  let controllerIndex = 0;
  const hosts: ResolvedHost[] = Object.entries(inv.hosts).map(([name, host]) => {
    const ssh = { ...inv.ssh, ...host.ssh };
    const resolved: ResolvedHost = {
      name,
      fqdn: `${name}.${inv.domain}`,
      roles: host.roles,
      addresses: host.addresses,
      ip: host.addresses.management ?? "",
      interfaces: host.interfaces ?? {},
      ssh: {
        user: ssh.user ?? "root",
        port: ssh.port ?? 22,
        ...(ssh.key ? { key: resolvePath(base, ssh.key) } : {}),
        ...(ssh.known_hosts ? { knownHosts: resolvePath(base, ssh.known_hosts) } : {}),
      },
      controllerIndex: host.roles.includes("controller") ? ++controllerIndex : 0,
    };
    if (host.bmc) resolved.bmc = host.bmc;
    return resolved;
  });

  const roles: Record<Role, string[]> = { controller: [], compute: [], storage: [] };
  for (const host of hosts) for (const role of host.roles) roles[role].push(host.name);

  const vips = {
    internal: inv.vips.internal,
    public: inv.vips.public ?? inv.vips.internal,
    publicHost: inv.vips.public_hostname ?? inv.vips.public ?? inv.vips.internal,
    services: Object.fromEntries(Object.entries(inv.vips.services ?? {}).filter(([, ip]) => ip)) as Record<
      string,
      string
    >,
  };

  const endpoints: Record<string, Endpoint> = {};
  const tls = inv.tls.public !== "off";
  const enabled = new Set(inv.services.openstack.enabled);
  for (const service of options.services) {
    if (service.group && !enabled.has(service.id)) continue;
    for (const { id, port, path, tlsPort } of service.endpoints ?? []) {
      const internalHost = vips.services[service.id] ?? vips.internal;
      const publicPort = tls && tlsPort ? tlsPort : port;
      endpoints[id] = {
        service: service.id,
        port,
        path,
        internal: `http://${internalHost}:${port}${path}`,
        public: publicUrl(tls ? "https" : "http", vips.publicHost, publicPort, path),
        publicPort,
      };
    }
  }

  return {
    cluster: inv.cluster,
    release: inv.release,
    platform: inv.platform,
    domain: inv.domain,
    source,
    secretsFile: inv.secrets_file ? resolvePath(base, inv.secrets_file) : defaultSecretsFile(source),
    networks,
    hosts,
    roles,
    vips,
    vipManager: inv.vip_manager,
    tls: { public: inv.tls.public },
    bootstrap: roles.controller[0] ?? hosts[0]?.name ?? "",
    settings: inv.services,
    instanceHa: inv.instance_ha,
    openstack: {
      enabled: inv.services.openstack.enabled,
      region: inv.services.openstack.region,
      ...(inv.services.openstack.workers === undefined ? {} : { workers: inv.services.openstack.workers }),
    },
    endpoints,
    overrides: inv.overrides,
    waivers: inv.waivers,
  };
}

/**
 * No port in the URL when it is the scheme's own: a browser sends Origin and Referer without it,
 * and Django's CSRF check compares them with the URL a user was given (Horizon on 443).
 */
function publicUrl(scheme: "http" | "https", host: string, port: number, path: string): string {
  const own = (scheme === "https" && port === 443) || (scheme === "http" && port === 80);
  return `${scheme}://${host}${own ? "" : `:${port}`}${path}`;
}

/** Paths in an inventory are relative to the inventory file; `~/` is the user's home. */
function resolvePath(base: string, path: string): string {
  return path.startsWith("~/") ? resolve(homedir(), path.slice(2)) : resolve(base, path);
}

/** inventory.yaml -> inventory.secrets.yaml, next to it. */
export function defaultSecretsFile(inventoryPath: string): string {
  return inventoryPath.replace(/(\.ya?ml)?$/, ".secrets.yaml");
}

function pick(net: Inventory["networks"]["management"]): Partial<ResolvedNetwork> {
  const out: Partial<ResolvedNetwork> = {};
  if (net.vlan !== undefined) out.vlan = net.vlan;
  if (net.gateway !== undefined) out.gateway = net.gateway;
  if (net.mtu !== undefined) out.mtu = net.mtu;
  return out;
}
