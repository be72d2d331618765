import { createHash } from "node:crypto";
import type { ConfigDoc, DocSection } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { vipList } from "../haproxy/vips.ts";
import { controllerNames, controllers } from "../hosts.ts";
import type { ServiceDef } from "../types.ts";
import { keepalivedSteps } from "./steps.ts";

/**
 * VRRP advertisement interval. A backup takes over after 3 missed adverts plus a skew under one
 * interval: about 0.7 s at 200 ms, the point of choosing keepalived (VRRPv2 only does whole
 * seconds: 3.x s).
 */
export const ADVERT_INTERVAL_S = 0.2;

/** A VRRP router id per cluster, so two clusters on one segment do not fight over a VIP. */
export function virtualRouterId(cluster: string): number {
  return ((createHash("sha256").update(cluster).digest()[0] ?? 0) % 254) + 1;
}

/**
 * keepalived.conf when the inventory picks keepalived over Pacemaker for the VIPs: unicast
 * VRRP between the controllers' management addresses, the VIP only where HAProxy runs.
 */
export function keepalivedConfig(topology: Topology, host: ResolvedHost): ConfigDoc {
  const members = controllers(topology);
  const nic = host.interfaces.management ?? "eth0";
  const prefix = topology.networks.management?.prefix ?? 24;
  const instance: DocSection = {
    name: "vrrp_instance VI_HASTACK",
    entries: [
      // All start as BACKUP with nopreempt: a returning node does not grab the VIP back.
      ["state", "BACKUP"],
      ["nopreempt", ""],
      ["interface", nic],
      ["virtual_router_id", String(virtualRouterId(topology.cluster))],
      ["priority", String(150 - host.controllerIndex * 10)],
      ["advert_int", String(ADVERT_INTERVAL_S)],
      ["unicast_src_ip", host.ip],
    ],
    children: [
      { name: "unicast_peer", entries: members.filter((h) => h.name !== host.name).map((h) => [h.ip, ""]) },
      {
        name: "virtual_ipaddress",
        entries: vipList(topology).map((v) => [`${v.ip}/${prefix}`, `dev ${nic}`]),
      },
      { name: "track_script", entries: [["chk_haproxy", ""]] },
    ],
  };
  return {
    format: "keepalived",
    header: ["Rendered by hastack: VIPs by VRRP (vip_manager: keepalived)."],
    sections: [
      {
        name: "global_defs",
        entries: [
          ["router_id", host.name],
          // VRRPv3 (RFC 5798): sub-second adverts. It has no authentication (v2's PASS was a
          // cleartext 8-character password anyway); adverts go only to the unicast peers.
          ["vrrp_version", "3"],
          ["enable_script_security", ""],
          ["script_user", "root"],
        ],
      },
      {
        name: "vrrp_script chk_haproxy",
        entries: [
          ["script", `"/usr/bin/pgrep -x haproxy"`],
          ["interval", "1"],
          ["fall", "2"],
          ["rise", "2"],
        ],
      },
      instance,
    ],
  };
}

export const keepalived: ServiceDef = {
  id: "keepalived",
  title: "keepalived VRRP for the VIPs (instead of Pacemaker)",
  after: ["haproxy"],
  hosts: (topology) => (topology.vipManager === "keepalived" ? controllerNames(topology) : []),
  state: "implemented",
  components: [
    { name: "keepalived", role: "controller", packages: ["keepalived"], units: ["keepalived.service"] },
  ],
  files: (ctx, host) => [
    {
      path: "/etc/keepalived/keepalived.conf",
      owner: "root",
      group: "root",
      mode: 0o600,
      content: keepalivedConfig(ctx.topology, host),
      onChange: { reload: ["keepalived"] },
    },
  ],
  steps: (topology) => (topology.vipManager === "keepalived" ? keepalivedSteps() : []),
};
