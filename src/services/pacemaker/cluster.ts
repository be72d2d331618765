import { bmcEndpoint, fenceIpmilanParams } from "../../hostkit/ipmi.ts";
import type { Topology } from "../../topology/types.ts";
import { controllers } from "../hosts.ts";
import type { PacemakerContribution, PcmkConstraint, PcmkPrimitive, RenderContext } from "../types.ts";
import { pacemakerSettings } from "./settings.ts";

/**
 * Cluster properties and one fence_ipmilan device per controller. Each device can fence only
 * its own host (pcmk_host_list) and never runs there: a node cannot be trusted to fence itself.
 */
export function clusterPacemaker(topology: Topology, secret: RenderContext["secret"]): PacemakerContribution {
  const p = pacemakerSettings(topology);
  const primitives: PcmkPrimitive[] = [];
  const constraints: PcmkConstraint[] = [];
  for (const host of controllers(topology)) {
    if (!host.bmc) continue;
    const id = `fence-${host.name}`;
    primitives.push({
      id,
      class: "stonith",
      type: "fence_ipmilan",
      params: {
        // The same address, user, lanplus and cipher suite the preflight and status check with.
        ...fenceIpmilanParams(bmcEndpoint(host.bmc), secret(host.bmc.password_secret)),
        // Fence by power-off, not reboot: the survivors move resources as soon as the node is
        // off (no wait for the power-on), and a fenced node stays down until an operator looks
        // (E19; corosync/pacemaker do not start at boot either).
        pcmk_reboot_action: "off",
        pcmk_host_list: host.name,
        // Two nodes that lose each other race to fence: delaying the device that shoots the
        // bootstrap node lets the bootstrap node win, so exactly one survives.
        ...(host.name === topology.bootstrap && p.fence_delay_s > 0
          ? { pcmk_delay_max: `${p.fence_delay_s}s` }
          : {}),
      },
      // A BMC is a small, slow computer: a status call that takes longer than 20 s on a loaded
      // site is not a dead fence device, and a failed monitor leaves the cluster degraded.
      ops: [{ name: "monitor", interval_s: 60, timeout_s: 60 }],
    });
    constraints.push({
      kind: "location",
      id: `${id}-not-on-self`,
      rsc: id,
      node: host.name,
      score: "-INFINITY",
    });
  }
  return {
    properties: {
      "cluster-name": topology.cluster,
      // Never false: without fencing a hung VIP holder keeps answering (lab freeze test) (E17).
      "stonith-enabled": p.fencing ? "true" : "false",
      "stonith-timeout": `${p.fence_timeout_s}s`,
      "no-quorum-policy": p.no_quorum_policy,
      // A unit: a bare 5 is 5 seconds, the runbook's E2.
      "cluster-recheck-interval": `${p.cluster_recheck_interval_min}min`,
      // Pacemaker's default (80 %) throttles the controller to one action per node once the load
      // average passes 2 x 0.8 x cores (3.2 on a 2-core host): after a fence, the fence device's
      // move (start 1.8 s, then its monitor) then runs before the VIP start instead of beside it,
      // which was 2.8 s of a 6.9 s failover on the loaded lab (DC log, "High CPU load detected").
      // hastack's cluster has a handful of resources (VIPs, HAProxy, fence devices): throttling
      // protects nothing and delays the failover, so 1000 % moves that line to a load of 20 x cores.
      "load-threshold": `${p.load_threshold_percent}%`,
      // Pacemaker's default (20 s) is how long a starting controller waits for a DC before it
      // calls an election. After a site power loss no DC runs, so every node waits it out: 20.8 s
      // of a lab recovery between pacemaker's start and quorum (pacemaker.log, 2026-12-05:
      // S_PENDING 06:47:48.1, election 06:48:09.0), with corosync's membership already formed.
      // A node joining a running DC is offered its join at once, whatever this value. A shorter
      // wait risks only an extra election round when a DC's answer is slower than it.
      "dc-deadtime": `${p.dc_deadtime_s}s`,
    },
    rscDefaults: { "resource-stickiness": "100", "migration-threshold": "3" },
    primitives,
    constraints,
  };
}
