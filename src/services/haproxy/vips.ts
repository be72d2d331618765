import type { Topology } from "../../topology/types.ts";
import { controllers } from "../hosts.ts";
import type { PacemakerContribution, PcmkConstraint, PcmkPrimitive } from "../types.ts";

/** Every distinct VIP with a resource id: vip-internal, vip-public, vip-<service>. */

/** HAProxy's clone in the CIB: what the VIPs, and the services that reach their databases through them, follow. */
export const HAPROXY_CLONE = "haproxy-clone";
export function vipList(topology: Topology): { id: string; ip: string }[] {
  const out: { id: string; ip: string }[] = [{ id: "vip-internal", ip: topology.vips.internal }];
  const add = (id: string, ip: string) => {
    if (!out.some((v) => v.ip === ip)) out.push({ id, ip });
  };
  add("vip-public", topology.vips.public);
  for (const [service, ip] of Object.entries(topology.vips.services)) add(`vip-${service}`, ip);
  return out;
}

/** The NIC that carries the management network, when every controller names the same one. */
export function managementNic(topology: Topology): string | undefined {
  const nics = new Set(controllers(topology).map((h) => h.interfaces.management));
  const [nic] = [...nics];
  return nics.size === 1 && nic ? nic : undefined;
}

/**
 * HAProxy runs on every controller (a clone); each VIP runs on one controller where HAProxy is
 * running. The runbook's inverse colocation (HAProxy only where the VIP is, E18) leaves no
 * warm HAProxy to fail over to.
 */
export function haproxyPacemaker(topology: Topology): PacemakerContribution {
  const haproxy: PcmkPrimitive = {
    id: "haproxy",
    class: "systemd",
    type: "haproxy",
    params: {},
    ops: [
      // A dead HAProxy on the VIP holder is an outage until this monitor notices: keep it short.
      { name: "monitor", interval_s: 2, timeout_s: 20 },
      { name: "start", interval_s: 0, timeout_s: 60 },
      { name: "stop", interval_s: 0, timeout_s: 60 },
    ],
  };
  if (topology.vipManager !== "pacemaker") return {};
  const prefix = topology.networks.management?.prefix ?? 24;
  const nic = managementNic(topology);
  const primitives: PcmkPrimitive[] = [];
  const constraints: PcmkConstraint[] = [];
  for (const vip of vipList(topology)) {
    primitives.push({
      id: vip.id,
      class: "ocf",
      provider: "heartbeat",
      type: "IPaddr2",
      params: { ip: vip.ip, cidr_netmask: String(prefix), ...(nic ? { nic } : {}) },
      ops: [
        { name: "monitor", interval_s: 10, timeout_s: 20 },
        { name: "start", interval_s: 0, timeout_s: 20 },
        { name: "stop", interval_s: 0, timeout_s: 20 },
      ],
    });
    constraints.push(
      {
        kind: "colocation",
        id: `${vip.id}-with-haproxy`,
        rsc: vip.id,
        withRsc: HAPROXY_CLONE,
        score: "INFINITY",
      },
      {
        kind: "order",
        id: `haproxy-then-${vip.id}`,
        first: HAPROXY_CLONE,
        // biome-ignore lint/suspicious/noThenProperty: Pacemaker's name for an order's second resource.
        then: vip.id,
        // Optional: start HAProxy first when both start, but a restart of HAProxy must not
        // stop and restart the VIP too (a Mandatory order cascades and doubles the outage).
        orderKind: "Optional",
      },
    );
  }
  return {
    // Its config on disk and its unit left to Pacemaker before the clone starts it.
    after: ["haproxy.unit"],
    primitives,
    clones: [{ id: HAPROXY_CLONE, primitive: haproxy, meta: { interleave: "true" } }],
    constraints,
  };
}
