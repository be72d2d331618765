import type { InventoryView, ServiceDef } from "../services/types.ts";
import type { ErrorCode, Problem } from "../util/errors.ts";
import { cidrContains, cidrsOverlap, isHostAddress } from "../util/ip.ts";
import type { SourceDoc } from "./load.ts";
import { checkRequirements } from "./requirements.ts";
import type { Inventory, NetworkName } from "./schema.ts";

type Path = (string | number)[];
type Report = (code: ErrorCode, path: Path, message: string, hint: string) => void;

/**
 * Semantic checks that a schema cannot express. Each check reports through `report`, so every
 * problem in the file is found in one run, each with its position and a fix hint.
 */
export function checkInventory(
  inventory: Inventory,
  source: SourceDoc,
  services: readonly ServiceDef[],
): Problem[] {
  const problems: Problem[] = [];
  const report: Report = (code, path, message, hint) => {
    problems.push({ severity: "error", code, message, hint, path, pos: source.positionOf(path) });
  };
  for (const check of [checkControllerCount, checkNetworks, checkHostAddresses, checkDuplicateAddresses]) {
    check(inventory, report);
  }
  checkVips(inventory, services, report);
  for (const p of checkRequirements(inventory.services.openstack.enabled, services)) report(...p);
  // Each service checks its own settings (corosync timeouts, fencing needs BMCs...).
  const view: InventoryView = {
    settings: inventory.services,
    hosts: inventory.hosts,
    vipManager: inventory.vip_manager,
    enabled: inventory.services.openstack.enabled,
    waivers: inventory.waivers,
  };
  for (const service of services) {
    for (const p of service.check?.(view) ?? []) problems.push({ ...p, pos: source.positionOf(p.path) });
  }
  return problems;
}

function checkControllerCount(inv: Inventory, report: Report): void {
  const controllers = Object.values(inv.hosts).filter((h) => h.roles.includes("controller")).length;
  if (controllers >= 3 && controllers % 2 === 1) return;
  if (inv.waivers.controller_count) return;
  const why =
    controllers < 3
      ? `only ${controllers} controller(s): a quorum of Galera, RabbitMQ, etcd and corosync needs at least 3`
      : `${controllers} controllers is an even count: a split in half leaves no side with a majority`;
  report(
    "E_CONTROLLER_COUNT",
    ["hosts"],
    `hosts: ${why}`,
    "use an odd number >= 3 of controllers, or set waivers.controller_count to a sentence saying why this is acceptable",
  );
}

function checkNetworks(inv: Inventory, report: Report): void {
  const entries = Object.entries(inv.networks).filter(([, n]) => n !== undefined);
  for (const [i, [nameA, a]] of entries.entries()) {
    for (const [nameB, b] of entries.slice(i + 1)) {
      if (a && b && cidrsOverlap(a.cidr, b.cidr)) {
        report(
          "E_NETWORK_OVERLAP",
          ["networks", nameB, "cidr"],
          `networks.${nameB}: ${b.cidr} overlaps networks.${nameA} (${a.cidr})`,
          "give every network its own, non-overlapping range",
        );
      }
    }
  }
}

function checkHostAddresses(inv: Inventory, report: Report): void {
  for (const [name, host] of Object.entries(inv.hosts)) {
    if (!host.addresses.management) {
      report(
        "E_HOST_NO_MANAGEMENT",
        ["hosts", name, "addresses"],
        `hosts.${name}: has no management address`,
        "add addresses.management: every host needs one (SSH, cluster traffic and APIs use it)",
      );
    }
    for (const [net, ip] of Object.entries(host.addresses) as [NetworkName, string][]) {
      const network = inv.networks[net];
      const path = ["hosts", name, "addresses", net];
      if (!network) {
        report(
          "E_UNKNOWN_NETWORK",
          path,
          `hosts.${name}.addresses.${net}: network '${net}' is not defined`,
          `define networks.${net} with its cidr, or remove this address`,
        );
      } else if (!isHostAddress(network.cidr, ip)) {
        report(
          "E_ADDRESS_OUTSIDE_NETWORK",
          path,
          `hosts.${name}.addresses.${net}: ${ip} is not a host address in ${net} network ${network.cidr}`,
          `use an address inside ${network.cidr} (not its network or broadcast address)`,
        );
      }
    }
    const needsStorage = host.roles.includes("storage") && inv.networks.storage && !host.addresses.storage;
    if (needsStorage) {
      report(
        "E_HOST_NO_STORAGE",
        ["hosts", name, "addresses"],
        `hosts.${name}: a storage host needs a storage network address`,
        "add addresses.storage",
      );
    }
    if (host.bmc && inv.networks.bmc && !cidrContains(inv.networks.bmc.cidr, host.bmc.address)) {
      report(
        "E_BMC_OUTSIDE_NETWORK",
        ["hosts", name, "bmc", "address"],
        `hosts.${name}.bmc.address: ${host.bmc.address} is outside the bmc network ${inv.networks.bmc.cidr}`,
        "use the BMC's address on the bmc network",
      );
    }
  }
}

function checkDuplicateAddresses(inv: Inventory, report: Report): void {
  const seen = new Map<string, string>();
  function claim(ip: string, path: Path): void {
    const label = path.join(".");
    const previous = seen.get(ip);
    if (previous) {
      report(
        "E_DUPLICATE_ADDRESS",
        path,
        `${label}: ${ip} is already used by ${previous}`,
        "every host address, BMC address and VIP must be unique",
      );
    } else {
      seen.set(ip, label);
    }
  }
  for (const [name, host] of Object.entries(inv.hosts)) {
    for (const [net, ip] of Object.entries(host.addresses))
      if (ip) claim(ip, ["hosts", name, "addresses", net]);
    if (host.bmc) claim(host.bmc.address, ["hosts", name, "bmc", "address"]);
  }
  claim(inv.vips.internal, ["vips", "internal"]);
  if (inv.vips.public && inv.vips.public !== inv.vips.internal) claim(inv.vips.public, ["vips", "public"]);
  for (const [service, ip] of Object.entries(inv.vips.services ?? {})) {
    if (ip) claim(ip, ["vips", "services", service]);
  }
}

function checkVips(inv: Inventory, services: readonly ServiceDef[], report: Report): void {
  const management = inv.networks.management.cidr;
  const internal: [Path, string][] = [[["vips", "internal"], inv.vips.internal]];
  for (const [service, ip] of Object.entries(inv.vips.services ?? {})) {
    if (ip) internal.push([["vips", "services", service], ip]);
  }
  for (const [path, ip] of internal) {
    if (!isHostAddress(management, ip)) {
      report(
        "E_VIP_OUTSIDE_MANAGEMENT",
        path,
        `${path.join(".")}: VIP ${ip} is outside the management network ${management}`,
        `choose a free address inside ${management}: the VIP moves between controllers on that network`,
      );
    }
  }
  const publicVip = inv.vips.public;
  if (publicVip) {
    const onSomeNetwork = Object.values(inv.networks).some((n) => n && isHostAddress(n.cidr, publicVip));
    if (!onSomeNetwork) {
      report(
        "E_VIP_OUTSIDE_NETWORKS",
        ["vips", "public"],
        `vips.public: ${publicVip} is on none of the defined networks`,
        "put the public VIP on the management or provider network",
      );
    }
  }
  if (inv.tls.public !== "off" && (!publicVip || publicVip === inv.vips.internal)) {
    report(
      "E_TLS_PUBLIC_VIP",
      ["tls", "public"],
      `tls.public: ${inv.tls.public} needs vips.public, an address of its own: HTTPS for clients and HTTP for the services cannot share the internal VIP's ports`,
      "add vips.public (a free address on the management or provider network), or set tls.public: off",
    );
  }
  const enabled = new Set(inv.services.openstack.enabled);
  const known = new Set(services.filter((s) => !s.group || enabled.has(s.id)).map((s) => s.id));
  for (const service of Object.keys(inv.vips.services ?? {})) {
    if (!known.has(service)) {
      report(
        "E_VIP_UNKNOWN_SERVICE",
        ["vips", "services", service],
        `vips.services.${service}: no enabled service is called '${service}'`,
        `use one of: ${[...known].join(", ")}`,
      );
    }
  }
}
