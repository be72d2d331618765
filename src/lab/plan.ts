import { HastackError } from "../util/errors.ts";

/** The lab's networks; every one is a /24 whose last octet identifies the host on it. */
export type LabNetwork = "management" | "storage" | "provider" | "bmc";
export type LabRole = "controller" | "compute" | "storage";

export const LAB_NETWORKS: Record<
  LabNetwork,
  { prefix: string; bridge: string; nic: string; short: string }
> = {
  management: { prefix: "10.20.0", bridge: "br-mgmt", nic: "mgmt0", short: "mgmt" },
  storage: { prefix: "10.21.0", bridge: "br-stor", nic: "stor0", short: "stor" },
  provider: { prefix: "10.22.0", bridge: "br-prov", nic: "prov0", short: "prov" },
  bmc: { prefix: "10.29.0", bridge: "br-bmc", nic: "bmc0", short: "bmc" },
};

export const LAB_CLUSTER = "lab";
export const LAB_INTERNAL_VIP = "10.20.0.10";
/** The public endpoints' VIP (TLS there), on the management network: the lab has no other for clients. */
export const LAB_PUBLIC_VIP = "10.20.0.50";
export const BMC_PORT = 623;
export const BMC_USER = "admin";

export interface LabSize {
  controllers: number;
  computes: number;
  storage: number;
}

export const DEFAULT_SIZE: LabSize = { controllers: 3, computes: 2, storage: 3 };

export interface LabHost {
  name: string;
  role: LabRole;
  /** Last octet on every network the host is on. */
  octet: number;
  networks: LabNetwork[];
  addresses: Partial<Record<LabNetwork, string>>;
  bmcAddress: string;
}

export interface LabPlan {
  size: LabSize;
  hosts: LabHost[];
}

const ROLE_NETWORKS: Record<LabRole, LabNetwork[]> = {
  // Controllers are on the BMC network so fence_ipmilan can reach every BMC.
  controller: ["management", "storage", "provider", "bmc"],
  compute: ["management", "storage", "provider"],
  storage: ["management", "storage"],
};

/**
 * Octets: controllers .11.., computes .21.. (then .101.. past nine), storage .31..; the BMC of the
 * host with octet X is 10.29.0.(100+X). Compute octets from .101 would give BMC addresses past .255,
 * so the plan caps the computes at nine plus what fits.
 */
export function planLab(size: LabSize = DEFAULT_SIZE): LabPlan {
  checkCount("controllers", size.controllers, 1, 9);
  checkCount("computes", size.computes, 0, 9 + 54);
  checkCount("storage", size.storage, 0, 9);
  const hosts: LabHost[] = [];
  for (let i = 1; i <= size.controllers; i++) hosts.push(makeHost(`ctl${i}`, "controller", 10 + i));
  for (let i = 1; i <= size.computes; i++) {
    hosts.push(makeHost(`cmp${i}`, "compute", i <= 9 ? 20 + i : 100 + (i - 9)));
  }
  for (let i = 1; i <= size.storage; i++) hosts.push(makeHost(`sto${i}`, "storage", 30 + i));
  return { size, hosts };
}

function makeHost(name: string, role: LabRole, octet: number): LabHost {
  const networks = ROLE_NETWORKS[role];
  const addresses: Partial<Record<LabNetwork, string>> = {};
  for (const net of networks) addresses[net] = `${LAB_NETWORKS[net].prefix}.${octet}`;
  return { name, role, octet, networks, addresses, bmcAddress: `${LAB_NETWORKS.bmc.prefix}.${100 + octet}` };
}

function checkCount(what: string, n: number, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HastackError(
      "E_LAB_SIZE",
      `Cannot plan the lab: --${what} must be an integer from ${min} to ${max}, got ${n}`,
    );
  }
}

/** Host-side veth name in the lab namespace (at most 15 characters, the kernel's limit). */
export function hostVeth(host: string, net: LabNetwork): string {
  return `${host}-${LAB_NETWORKS[net].short}`;
}

/** The gateway-less address the lab namespace itself has on each bridge. */
export function bridgeAddress(net: LabNetwork): string {
  return `${LAB_NETWORKS[net].prefix}.1`;
}

export function findHost(plan: LabPlan, name: string): LabHost {
  const host = plan.hosts.find((h) => h.name === name);
  if (!host) {
    const names = plan.hosts.map((h) => h.name).join(", ");
    throw new HastackError("E_LAB_HOST", `Cannot find lab host ${name}: the lab has ${names}`);
  }
  return host;
}
