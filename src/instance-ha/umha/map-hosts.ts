/**
 * @module
 * ipmi_info and node_storage_ip_info to the inventory's hosts: a BMC (its password into the
 * secrets file as bmc_<host>) and a storage address per compute. UMHA's FQDNs are matched by their
 * short name; a host the inventory lacks is reported, never added (it needs roles and addresses
 * only the operator knows). A host whose BMC or storage address differs from UMHA's is a conflict.
 */
import type { Bmc } from "../../inventory/schema.ts";
import type { SecretValues } from "../../inventory/secrets-file.ts";
import type { IpmiEntry, StorageEntry } from "./lines.ts";
import type { ReportEntry, Setting } from "./report-types.ts";

/** What the import needs to know of an inventory host. */
export interface KnownHost {
  name: string;
  roles: readonly string[];
  addresses: Partial<Record<string, string>>;
  bmc?: Pick<Bmc, "address" | "user" | "password_secret">;
}

export interface HostsPlan {
  settings: Setting[];
  secrets: SecretValues;
  report: ReportEntry[];
  /** Each a sentence naming the host, the file and line, and both addresses (never a password). */
  conflicts: string[];
}

export function mapHosts(
  files: {
    ipmi?: { file: string; entries: IpmiEntry[] };
    storage?: { file: string; entries: StorageEntry[] };
  },
  hosts: readonly KnownHost[],
): HostsPlan {
  const out: HostsPlan = { settings: [], secrets: {}, report: [], conflicts: [] };
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const known = (file: string, e: IpmiEntry | StorageEntry) => {
    const host = byName.get(e.host);
    if (host) return host;
    out.report.push({
      subject: `${file} line ${e.line} (${e.fqdn})`,
      outcome: "warning",
      detail: `${e.host} is not a host of the inventory: not added (add it with its roles and addresses, then import again)`,
    });
    return undefined;
  };
  const where = (file: string, e: IpmiEntry | StorageEntry) =>
    `${file} line ${e.line} (${e.fqdn} -> ${e.host})`;

  for (const e of files.ipmi?.entries ?? []) {
    const file = files.ipmi?.file ?? "ipmi_info";
    const host = known(file, e);
    if (!host) continue;
    const current = host.bmc;
    if (current && (current.address !== e.address || current.user !== e.user)) {
      out.conflicts.push(
        `${host.name}: the inventory's BMC is ${current.user}@${current.address}, ${file} line ${e.line} says ${e.user}@${e.address}`,
      );
      continue;
    }
    const secret = current?.password_secret ?? `bmc_${host.name.replaceAll("-", "_")}`;
    out.secrets[secret] = e.password;
    const role = host.roles.includes("compute") ? "" : ` (a ${host.roles.join("/")} host, not a compute)`;
    if (current) {
      out.report.push({
        subject: where(file, e),
        outcome: "unchanged",
        detail: `BMC ${e.user}@${e.address} as in the inventory; its password goes to secret ${secret}${role}`,
      });
      continue;
    }
    out.settings.push({
      path: ["hosts", host.name, "bmc"],
      value: { address: e.address, user: e.user, password_secret: secret },
      subject: where(file, e),
      detail: `BMC ${e.user}@${e.address} (IPMI lanplus, port 623); its password goes to secret ${secret}${role}`,
    });
  }

  for (const e of files.storage?.entries ?? []) {
    const file = files.storage?.file ?? "node_storage_ip_info";
    const host = known(file, e);
    if (!host) continue;
    const current = host.addresses.storage;
    if (current !== undefined && current !== e.address) {
      out.conflicts.push(
        `${host.name}: the inventory's storage address is ${current}, ${file} line ${e.line} says ${e.address}`,
      );
      continue;
    }
    if (current === e.address) {
      out.report.push({
        subject: where(file, e),
        outcome: "unchanged",
        detail: `storage address ${e.address} as in the inventory`,
      });
      continue;
    }
    out.settings.push({
      path: ["hosts", host.name, "addresses", "storage"],
      value: e.address,
      subject: where(file, e),
      detail: `storage address ${e.address}`,
    });
  }
  return out;
}
