import type { Topology } from "../topology/types.ts";

/** Secrets the operator provides (BMC and SMTP passwords): referenced by the inventory, never generated. */
export function providedSecrets(topology: Topology): { name: string; description: string }[] {
  const out = topology.hosts.flatMap((h) =>
    h.bmc ? [{ name: h.bmc.password_secret, description: `BMC password of ${h.name}` }] : [],
  );
  const smtp = topology.instanceHa.notify.smtp?.password_secret;
  if (smtp) out.push({ name: smtp, description: "SMTP password for instance-HA notifications" });
  return out;
}
