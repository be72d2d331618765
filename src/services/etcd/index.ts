import type { ConfigDoc } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { controllerNames, controllers } from "../hosts.ts";
import type { ServiceDef } from "../types.ts";
import { etcdDiagnostics, etcdHealth } from "./health.ts";
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT, EtcdSettings, etcdSettings } from "./settings.ts";
import { etcdSteps } from "./steps.ts";

/**
 * /etc/default/etcd (Debian's unit reads it as ETCD_* environment): a static cluster of the
 * controllers. Peers talk on the management address only, not the runbook's 0.0.0.0 (E16).
 */
export function etcdEnv(topology: Topology, host: ResolvedHost): ConfigDoc {
  const e = etcdSettings(topology);
  const peer = (ip: string) => `http://${ip}:${ETCD_PEER_PORT}`;
  const client = (ip: string) => `http://${ip}:${ETCD_CLIENT_PORT}`;
  return {
    format: "shell-env",
    header: ["Rendered by hastack: etcd member settings."],
    sections: [
      {
        name: "",
        entries: [
          ["ETCD_NAME", host.name],
          ["ETCD_DATA_DIR", "/var/lib/etcd/default"],
          ["ETCD_LISTEN_PEER_URLS", peer(host.ip)],
          ["ETCD_LISTEN_CLIENT_URLS", `${client(host.ip)},${client("127.0.0.1")}`],
          ["ETCD_INITIAL_ADVERTISE_PEER_URLS", peer(host.ip)],
          ["ETCD_ADVERTISE_CLIENT_URLS", client(host.ip)],
          [
            "ETCD_INITIAL_CLUSTER",
            controllers(topology)
              .map((h) => `${h.name}=${peer(h.ip)}`)
              .join(","),
          ],
          ["ETCD_INITIAL_CLUSTER_TOKEN", `${topology.cluster}-etcd`],
          // Only read when the data dir is empty: a restarted member keeps its own state.
          ["ETCD_INITIAL_CLUSTER_STATE", "new"],
          ["ETCD_HEARTBEAT_INTERVAL", String(e.heartbeat_ms)],
          ["ETCD_ELECTION_TIMEOUT", String(e.election_timeout_ms)],
        ],
      },
    ],
  };
}

export const etcd: ServiceDef = {
  id: "etcd",
  title: "etcd on the controllers (Cinder coordination, hastack locks)",
  after: ["memcached"],
  hosts: controllerNames,
  state: "implemented",
  settings: { etcd: EtcdSettings },
  components: [
    { name: "etcd", role: "controller", packages: ["etcd-server", "etcd-client"], units: ["etcd.service"] },
  ],
  files: (ctx, host) => [
    {
      path: "/etc/default/etcd",
      owner: "root",
      group: "root",
      mode: 0o644,
      content: etcdEnv(ctx.topology, host),
      onChange: { restart: ["etcd"] },
    },
  ],
  listens: (_topology, host) => [
    { address: host.ip, port: ETCD_CLIENT_PORT, proto: "tcp", owner: "etcd client" },
    { address: "127.0.0.1", port: ETCD_CLIENT_PORT, proto: "tcp", owner: "etcd client" },
    { address: host.ip, port: ETCD_PEER_PORT, proto: "tcp", owner: "etcd peer" },
  ],
  health: etcdHealth,
  diagnostics: etcdDiagnostics,
  steps: () => etcdSteps(),
};

export { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from "./settings.ts";
