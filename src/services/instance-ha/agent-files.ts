/**
 * @module
 * What every compute gets for hastack-agent (src/instance-ha/agent/): its systemd unit, its
 * config, and its per-host key. Rendered, tested, not deployed yet: the service stays declared
 * until the engine that listens for the heartbeats exists.
 *
 * Layout on a compute:
 *   /opt/hastack/node/<version>/bin/node   the pinned Node (node_modules/node/bin/node on the
 *                                          deploying machine), copied once per version
 *   /opt/hastack/node/current              symlink to the version in use
 *   /opt/hastack/agent/                    AGENT_SOURCES at their paths under src/, a package.json
 *                                          saying "type": "module", and a node_modules/ with
 *                                          AGENT_PACKAGES only: Node 24 strips the types, nothing
 *                                          is built
 *   /etc/hastack/agent.json                the config (renderAgentConfig), 0644
 *   /etc/hastack/agent.key                 the per-host key, hex, 0600
 *   /var/lib/hastack/agent-epoch           the last epoch used (the agent keeps it)
 *
 * How it is shipped: the steps in ./ship/ (node-step.ts copies the pinned Node once per version,
 * when its sha256 differs; program-step.ts syncs /opt/hastack/agent/ from AGENT_SOURCES and
 * AGENT_PACKAGES, whose list a test compares with main.ts's import graph, and restarts a running
 * agent when anything changed; key-step.ts writes the key with `agentKeyText`, computed on the
 * deploying machine so the site secret never reaches a compute). The render pipeline cannot make
 * the key: its placeholders stand for whole secrets, and the key is derived from one.
 */

import {
  AGENT_CONFIG_PATH,
  AGENT_KEY_PATH,
  renderAgentConfig,
  renderAgentKey,
  type Target,
} from "../../instance-ha/agent/config.ts";
import { type HeartbeatNetwork, hostKey } from "../../instance-ha/heartbeat.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import { monHosts, publicAddress } from "../ceph/layout.ts";
import { MON_V2_PORT } from "../ceph/settings.ts";
import { controllers } from "../hosts.ts";
import type { FileSpec } from "../types.ts";

/**
 * The engine's UDP ports, one per network. Two ports rather than one: on a site without a
 * storage network both copies go to the controllers' management addresses, and the engine
 * tells them apart by the socket they arrive on.
 */
export const HEARTBEAT_PORTS: Readonly<Record<HeartbeatNetwork, number>> = {
  management: 4950,
  storage: 4951,
};

/** The src/ files the agent runs (paths under src/): main.ts's run-time imports, and only those. */
export const AGENT_SOURCES: readonly string[] = [
  "instance-ha/agent/agent.ts",
  "instance-ha/agent/config.ts",
  "instance-ha/agent/epoch.ts",
  "instance-ha/agent/main.ts",
  "instance-ha/agent/observe.ts",
  "instance-ha/heartbeat.ts",
  "instance-ha/mac.ts",
  "util/errors.ts",
];
/** The npm packages those files import (node_modules/ on the compute holds these and their own). */
export const AGENT_PACKAGES: readonly string[] = ["pino", "zod"];

export const AGENT_UNIT = "hastack-agent.service";
export const AGENT_NODE = "/opt/hastack/node/current/bin/node";
export const AGENT_MAIN = "/opt/hastack/agent/instance-ha/agent/main.ts";

/** Both copies of a heartbeat on a site without a storage network go over management. */
function addressOn(host: ResolvedHost, network: HeartbeatNetwork, topology: Topology): string | undefined {
  if (network === "storage" && topology.networks.storage) return host.addresses.storage;
  return host.ip;
}

/** The unit: restarted whatever way it ends, ordered after the network is up. */
export function renderAgentUnit(): string {
  return [
    "# Rendered by hastack: the instance-HA agent (heartbeats to the engine on both networks).",
    "[Unit]",
    "Description=hastack instance-HA agent",
    "Wants=network-online.target",
    "After=network-online.target",
    // Never give up: a compute without its agent is silent, and a silent compute gets fenced.
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${AGENT_NODE} ${AGENT_MAIN} --config ${AGENT_CONFIG_PATH}`,
    "Restart=always",
    "RestartSec=1",
    // Root: `virsh -c qemu:///system` and `systemctl is-active` need no more, but the key is root's.
    "User=root",
    "StateDirectory=hastack",
    // The agent is small; a leak must not take the compute's memory from its VMs.
    "MemoryMax=256M",
    // Scheduled ahead of the guests: a starved agent is a silent one.
    "Nice=-5",
    "NoNewPrivileges=yes",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The config for one compute: its own addresses as sources, every controller as a target. */
export function agentConfigText(topology: Topology, host: ResolvedHost): string {
  const networks = {} as Record<HeartbeatNetwork, { source: string; targets: Target[] }>;
  for (const network of ["management", "storage"] as const) {
    const source = addressOn(host, network, topology);
    const targets = controllers(topology).flatMap((c) => {
      const address = addressOn(c, network, topology);
      return address ? [{ address, port: HEARTBEAT_PORTS[network] }] : [];
    });
    if (!source || targets.length === 0) {
      throw new HastackError(
        "E_HA_AGENT_CONFIG",
        `Cannot render ${AGENT_CONFIG_PATH} for ${host.name}: ${source ? "no controller has" : `${host.name} has no`} address on the ${network} network`,
        {
          hint: "every compute and every controller needs an address on the storage network when the site has one",
        },
      );
    }
    networks[network] = { source, targets };
  }
  return renderAgentConfig({
    site: topology.cluster,
    host: host.name,
    intervalMs: Math.round(topology.instanceHa.heartbeat_interval_s * 1000),
    probeIntervalMs: Math.round(topology.instanceHa.probe_interval_s * 1000),
    networks,
    storageProbes: monHosts(topology).map((m) => ({
      address: publicAddress(topology, m),
      port: MON_V2_PORT,
    })),
  });
}

/** The files a compute gets from the render pipeline (the key is written by a step: see above). */
export function agentFiles(topology: Topology, host: ResolvedHost): FileSpec[] {
  return [
    {
      path: `/etc/systemd/system/${AGENT_UNIT}`,
      owner: "root",
      group: "root",
      mode: 0o644,
      content: renderAgentUnit(),
      onChange: { restart: [AGENT_UNIT] },
    },
    {
      path: AGENT_CONFIG_PATH,
      owner: "root",
      group: "root",
      mode: 0o644,
      content: agentConfigText(topology, host),
      onChange: { restart: [AGENT_UNIT] },
    },
  ];
}

/**
 * The key file's text for one compute, for the step that will write it (0600, root) to
 * AGENT_KEY_PATH. Derived here, on the deploying machine: the compute never sees `siteSecret`.
 * The site is the cluster's name, which is what the engine's verifier must be given too.
 */
export function agentKeyText(siteSecret: string, topology: Topology, host: ResolvedHost): string {
  return renderAgentKey(hostKey(siteSecret, topology.cluster, host.name));
}

export { AGENT_KEY_PATH };
