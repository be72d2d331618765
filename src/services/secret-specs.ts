import type { Topology } from "../topology/types.ts";
import { services } from "./registry.ts";
import type { SecretSpec } from "./types.ts";

/** Every secret hastack generates: the union of what the services declare. */
export function generatedSecrets(): SecretSpec[] {
  const byName = new Map<string, SecretSpec>();
  for (const service of services) for (const spec of service.secrets ?? []) byName.set(spec.name, spec);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Secrets the operator provides (BMC and SMTP passwords): referenced by the inventory, never generated. */
export function providedSecrets(topology: Topology): { name: string; description: string }[] {
  const out = topology.hosts.flatMap((h) =>
    h.bmc ? [{ name: h.bmc.password_secret, description: `BMC password of ${h.name}` }] : [],
  );
  const smtp = topology.instanceHa.notify.smtp?.password_secret;
  if (smtp) out.push({ name: smtp, description: "SMTP password for instance-HA notifications" });
  return out;
}
