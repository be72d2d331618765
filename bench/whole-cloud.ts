/**
 * @module
 * What the bench must have rendered and planned for every compute, so that it cannot measure
 * less than the whole cloud (a service that stopped rendering on computes would make it faster).
 */
import type { RenderedFile } from "../src/services/render.ts";
import type { Topology } from "../src/topology/types.ts";
import { WHOLE_CLOUD } from "./site.ts";

/** Every compute's files: path, the service that renders it, and a line its text must hold. */
export const COMPUTE_FILES: readonly { path: string; service: string; holds: (ip: string) => string }[] = [
  { path: "/etc/nova/nova.conf", service: "nova", holds: (ip) => `my_ip = ${ip}\n` },
  { path: "/etc/nova/nova.conf", service: "nova", holds: () => "images_type = rbd\n" },
  { path: "/etc/nova/nova-compute.conf", service: "nova", holds: () => "[libvirt]" },
  { path: "/etc/neutron/neutron.conf", service: "neutron", holds: () => "[DEFAULT]" },
  {
    path: "/etc/neutron/neutron_ovn_metadata_agent.ini",
    service: "neutron",
    holds: () => "ovn_sb_connection = tcp:",
  },
  { path: "/etc/openvswitch/system-id.conf", service: "neutron", holds: () => "" },
  { path: "/etc/ceph/ceph.conf", service: "ceph", holds: () => "mon_host = " },
  { path: "/etc/ceph/ceph.client.nova.keyring", service: "ceph", holds: () => "[client.nova]" },
];

/** Steps every compute's plan must have: Nova's compute, OVN's chassis and agents, Ceph's files. */
export const COMPUTE_STEPS = [
  "ceph.files",
  "nova.files",
  "nova.libvirt",
  "nova.libvirt-secret",
  "nova.compute-start",
  "neutron.files",
  "neutron.chassis",
  "neutron.agents",
];

/** Throws, naming what is missing, unless every compute has every file above, as described. */
export function checkComputeFiles(topology: Topology, files: ReadonlyMap<string, RenderedFile[]>): void {
  const enabled = [...topology.openstack.enabled].sort();
  if (enabled.join() !== [...WHOLE_CLOUD].sort().join())
    throw new Error(`bench site enables ${enabled.join(", ")}, not the whole cloud`);
  const computes = topology.hosts.filter((h) => h.roles.includes("compute"));
  const missing = new Map<string, number>();
  for (const host of computes) {
    const byPath = new Map((files.get(host.name) ?? []).map((f) => [f.path, f]));
    for (const want of COMPUTE_FILES) {
      const file = byPath.get(want.path);
      const ok = file?.service === want.service && file.text.includes(want.holds(host.ip));
      if (!ok) missing.set(want.path, (missing.get(want.path) ?? 0) + 1);
    }
  }
  if (missing.size > 0) {
    const list = [...missing].map(([path, n]) => `${path} on ${n} of ${computes.length} computes`);
    throw new Error(`the render is missing compute files: ${list.join("; ")}`);
  }
}

/** Throws unless every compute's planned steps include COMPUTE_STEPS. */
export function checkComputeSteps(
  topology: Topology,
  steps: ReadonlyMap<string, readonly { id: string }[]>,
): void {
  const computes = topology.hosts.filter((h) => h.roles.includes("compute"));
  const missing = new Map<string, number>();
  for (const host of computes) {
    const ids = new Set((steps.get(host.name) ?? []).map((s) => s.id));
    for (const id of COMPUTE_STEPS) if (!ids.has(id)) missing.set(id, (missing.get(id) ?? 0) + 1);
  }
  if (missing.size > 0) {
    const list = [...missing].map(([id, n]) => `${id} on ${n} of ${computes.length} computes`);
    throw new Error(`the plan is missing compute steps: ${list.join("; ")}`);
  }
}
