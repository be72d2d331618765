import { providedTlsSecrets } from "../inventory/site-tls.ts";
import type { Topology } from "../topology/types.ts";
import type { SecretSpec, ServiceDef } from "./types.ts";

/**
 * Secrets the operator provides (BMC and SMTP passwords, the public certificate with
 * `tls.public: provided`): referenced by the inventory, never generated.
 */
export function providedSecrets(topology: Topology): { name: string; description: string }[] {
  const out = topology.hosts.flatMap((h) =>
    h.bmc ? [{ name: h.bmc.password_secret, description: `BMC password of ${h.name}` }] : [],
  );
  const smtp = topology.instanceHa.notify.smtp?.password_secret;
  if (smtp) out.push({ name: smtp, description: "SMTP password for instance-HA notifications" });
  return [...out, ...providedTlsSecrets(topology)];
}

/** Every secret the services generate, once each, by name (BMC passwords are the operator's: not here). */
export function secretSpecs(services: readonly ServiceDef[]): SecretSpec[] {
  const byName = new Map<string, SecretSpec>();
  for (const service of services) for (const spec of service.secrets ?? []) byName.set(spec.name, spec);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
