/**
 * @module
 * `services.nova`: what differs between a lab and a real site on the compute hosts. Real hosts
 * run guests with KVM under libvirt's defaults; the lab's computes are containers without a
 * usable /dev/kvm, so they emulate (TCG) and libvirt gives up what a container cannot grant it.
 */
import { z } from "zod";
import type { Topology } from "../../topology/types.ts";
import { uuidFromSeed } from "../../util/uuid.ts";

export const NovaSettings = z.strictObject({
  virt_type: z
    .union([z.literal("kvm"), z.literal("qemu")])
    .default("kvm")
    .describe(
      "[libvirt] virt_type on every compute: kvm (hardware virtualisation: real hosts) or qemu (TCG emulation, slow: hosts without /dev/kvm, such as the lab's containers)",
    ),
  libvirt_in_container: z
    .boolean()
    .default(false)
    .describe(
      "computes are containers (the lab): libvirt's qemu.conf turns off what a container cannot grant (security driver, namespaces, cgroup controllers, dynamic ownership) and runs QEMU as root; real hosts keep libvirt's defaults",
    ),
  cpu_allocation_ratio: z
    .number()
    .positive()
    .optional()
    .describe(
      "[DEFAULT] cpu_allocation_ratio on every compute: vCPUs Placement offers per host CPU; unset, Nova's initial 4.0. The lab sets 16: its TCG guests idle, and a drill's 10 VMs must fit on one 2-CPU compute (8 did, the other 2 went to ERROR with NoValidHost)",
    ),
  rbd_secret_uuid: z
    .uuid()
    .optional()
    .describe(
      "UUID of the libvirt secret holding client.nova's Ceph key on every compute; default: derived from the cluster name and domain (stable across runs)",
    ),
});
export type NovaSettings = z.output<typeof NovaSettings>;

export function novaSettings(topology: Topology): NovaSettings {
  return topology.settings.nova as NovaSettings;
}

/**
 * The libvirt secret's UUID: the inventory's, or derived from the site's name like the Ceph
 * fsid. It is a name, not a credential (the key is the secret's value), and every compute must
 * use the same one: an instance's domain XML names it, and a live migration or an evacuation
 * takes that XML to another compute.
 */
export function rbdSecretUuid(topology: Topology): string {
  const s = novaSettings(topology);
  if (s.rbd_secret_uuid) return s.rbd_secret_uuid;
  return uuidFromSeed(`hastack-nova-rbd:${topology.cluster}.${topology.domain}`);
}
