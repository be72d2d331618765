import type { ConfigDoc, DocEntry } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { vipList } from "../haproxy/vips.ts";
import { controllers } from "../hosts.ts";

/**
 * /etc/hosts, the same on every host. Node names must resolve to management addresses, never to
 * Debian's 127.0.1.1: RabbitMQ node names and corosync's name lookups depend on it.
 */
export function etcHosts(topology: Topology): string {
  const lines = [
    "# Rendered by hastack from the inventory.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    "",
    ...topology.hosts.map((h) => `${h.ip}\t${h.fqdn} ${h.name}`),
    ...vipList(topology).map((v) => {
      const name = `${topology.cluster}-${v.id}`;
      return `${v.ip}\t${name}.${topology.domain} ${name}`;
    }),
  ];
  return `${lines.join("\n")}\n`;
}

export function sysctlConfig(host: ResolvedHost): ConfigDoc {
  const controller = host.roles.includes("controller");
  const entries: DocEntry[] = [
    ["net.ipv4.ip_forward", "1"],
    // Security groups filter bridged traffic only with these (br_netfilter, loaded at boot).
    ["net.bridge.bridge-nf-call-iptables", "1"],
    ["net.bridge.bridge-nf-call-ip6tables", "1"],
  ];
  if (controller) {
    entries.push(
      // HAProxy binds every VIP on every controller, also where the VIP is not (yet) local.
      ["net.ipv4.ip_nonlocal_bind", "1"],
      // Default 15 retransmissions keep a connection to a dead peer (a failed VIP holder) open
      // for ~15 minutes; 8 gives up after ~100 s so clients reconnect through the moved VIP.
      ["net.ipv4.tcp_retries2", "8"],
    );
  }
  return {
    format: "keyvalue",
    header: [
      "Rendered by hastack.",
      controller
        ? "Controller: nonlocal bind for HAProxy's VIPs; tcp_retries2 lowered so a dead peer is noticed in ~100 s, not ~15 min."
        : "Bridge netfilter for security groups; br_netfilter is loaded by /etc/modules-load.d/hastack.conf.",
    ],
    sections: [{ name: "", entries }],
  };
}

/** Loaded at every boot: without it the bridge sysctls above fail after a reboot (runbook E13). */
export const MODULES_LOAD = "# Rendered by hastack: bridge netfilter for security groups.\nbr_netfilter\n";

/**
 * chrony: controllers use the Debian pool, peer with each other and serve the management
 * network (keeping time among themselves if the pool is unreachable); every other host follows
 * the controllers only.
 */
export function chronyConfig(topology: Topology, host: ResolvedHost): ConfigDoc {
  const ctl = controllers(topology);
  const entries: DocEntry[] = [];
  if (host.controllerIndex > 0) {
    entries.push(["pool", "2.debian.pool.ntp.org iburst"]);
    for (const peer of ctl) if (peer.name !== host.name) entries.push(["peer", `${peer.ip} iburst`]);
    entries.push(
      ["allow", topology.networks.management?.cidr ?? `${host.ip}/32`],
      ["local", "stratum 10 orphan"],
    );
  } else {
    for (const server of ctl) entries.push(["server", `${server.ip} iburst`]);
  }
  entries.push(
    ["driftfile", "/var/lib/chrony/chrony.drift"],
    ["makestep", "1 3"],
    ["rtcsync", ""],
    ["leapsectz", "right/UTC"],
    ["logdir", "/var/log/chrony"],
  );
  return { format: "space", header: ["Rendered by hastack."], sections: [{ name: "", entries }] };
}
