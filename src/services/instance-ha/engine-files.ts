/**
 * @module
 * What every controller gets for hastack-engine (src/instance-ha/daemon/): its systemd unit
 * (started by Pacemaker only, never enabled: one engine per site), its config and its secrets.
 *
 * Layout on a controller (beside the shared Node, see ship steps):
 *   /opt/hastack/engine/                   the files ENGINE_ENTRY loads, at their paths under
 *                                          src/, and a node_modules/ with their packages
 *   /etc/hastack/engine.json               the config, 0644
 *   /etc/hastack/engine-secrets.json       the signing secret and the passwords, 0600
 */
import type { BmcEndpoint } from "../../hostkit/ipmi.ts";
import { bmcEndpoint } from "../../hostkit/ipmi.ts";
import {
  ENGINE_CONFIG_PATH,
  ENGINE_SECRETS_PATH,
  type EngineConfigInput,
} from "../../instance-ha/daemon/config.ts";
import { HA_DATABASE, HA_USER } from "../../instance-ha/store-connect.ts";
import { hostsWithRole, type ResolvedHost, type Topology, vipFor } from "../../topology/types.ts";
import { FENCE_CLIENT, storageHosts } from "../ceph/layout.ts";
import { SITE_CA_PATH } from "../haproxy/tls.ts";
import { secretNames } from "../openstack/oslo.ts";
import type { FileSpec, RenderContext } from "../types.ts";
import { HEARTBEAT_PORTS } from "./agent-files.ts";

export const ENGINE_UNIT = "hastack-engine.service";
/** The Pacemaker resource that runs ENGINE_UNIT on one controller. */
export const ENGINE_RESOURCE = "hastack-engine";
export const ENGINE_NODE = "/opt/hastack/node/current/bin/node";
export const ENGINE_MAIN = "/opt/hastack/engine/instance-ha/daemon/main.ts";
/** The engine's REST API and /metrics, on the controller's management address. */
export const ENGINE_API_PORT = 4952;
/** The Keystone user the engine evacuates as (admin on the service project, like Masakari's). */
export const ENGINE_KEYSTONE_USER = "hastack_ha";

/** The entry point under src/: what the engine ships is what it loads (util/import-graph.ts). */
export const ENGINE_ENTRY = "instance-ha/daemon/main.ts";

function storageAddress(topology: Topology, host: ResolvedHost): string {
  return (topology.networks.storage && host.addresses.storage) || host.ip;
}

export function renderEngineUnit(): string {
  return [
    "# Rendered by hastack: the instance-HA engine. Pacemaker starts it on one controller",
    "# (resource hastack-engine); it is never enabled here.",
    "[Unit]",
    "Description=hastack instance-HA engine",
    "After=network-online.target corosync.service",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${ENGINE_NODE} ${ENGINE_MAIN} --config ${ENGINE_CONFIG_PATH} --secrets ${ENGINE_SECRETS_PATH}`,
    // Pacemaker decides about restarts (its monitor sees the unit fail, then recovers it).
    "Restart=no",
    "User=root",
    "MemoryMax=512M",
    // Ahead of the OpenStack services on a busy controller: a starved engine detects late.
    "Nice=-5",
    "TimeoutStopSec=60",
    "NoNewPrivileges=yes",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "",
  ].join("\n");
}

export function engineConfig(topology: Topology, host: ResolvedHost): EngineConfigInput {
  const ha = topology.instanceHa;
  const keystone = topology.endpoints.keystone?.internal ?? "";
  const withStorage = storageHosts(topology).length > 0;
  return {
    site: topology.cluster,
    node: host.name,
    listen: (["management", "storage"] as const).map((network) => ({
      network,
      address: network === "storage" ? storageAddress(topology, host) : host.ip,
      port: HEARTBEAT_PORTS[network],
    })),
    receiver_program: ENGINE_RECEIVER,
    computes: hostsWithRole(topology, "compute").map((c) => ({
      name: c.name,
      ...(c.bmc ? { bmc: bmcEndpoint(c.bmc) satisfies BmcEndpoint } : {}),
      addresses: { management: c.ip, storage: storageAddress(topology, c) },
    })),
    keystone: {
      auth_url: keystone,
      username: ENGINE_KEYSTONE_USER,
      project: "service",
      ...(keystone.startsWith("https:") ? { ca_file: SITE_CA_PATH } : {}),
    },
    store: { host: vipFor(topology, "galera"), port: 3306, user: HA_USER, database: HA_DATABASE },
    ...(withStorage ? { ceph: { name: FENCE_CLIENT.name, keyring: FENCE_CLIENT.keyring } } : {}),
    // Nova's instance disks are RBD images whenever the site has Ceph (services/nova/config.ts).
    disks_on_ceph: withStorage,
    engine: {
      // A network is silent after `missed_heartbeats` intervals without one.
      silence_ms: Math.max(1100, Math.round(ha.heartbeat_interval_s * ha.missed_heartbeats * 1000)),
      valve_hosts: ha.max_failed_hosts,
      valve_ratio: ha.max_failed_percent / 100,
    },
    evacuate: { parallel: ha.evacuate_concurrency },
    api: { address: host.ip, port: ENGINE_API_PORT },
    notify: ha.notify,
  };
}

/**
 * The secrets file: placeholders here, the values swapped in by the writer on the host only,
 * escaped for a JSON string (a BMC password with a quote in it must not break the file).
 */
function engineSecretsText(ctx: RenderContext): string {
  const secret = (name: string) => ctx.secret(name, "json");
  const bmc = Object.fromEntries(
    hostsWithRole(ctx.topology, "compute").flatMap((c) =>
      c.bmc?.password_secret ? [[c.name, secret(c.bmc.password_secret)]] : [],
    ),
  );
  const smtp = ctx.topology.instanceHa.notify.smtp?.password_secret;
  return `${JSON.stringify(
    {
      site_secret: secret("instance_ha_signing_key"),
      keystone_password: secret(secretNames(ENGINE_KEYSTONE_USER).identity),
      store_password: secret(secretNames(HA_USER).database),
      bmc_passwords: bmc,
      ...(smtp ? { smtp_password: secret(smtp) } : {}),
    },
    null,
    2,
  )}\n`;
}

export function engineFiles(ctx: RenderContext, host: ResolvedHost): FileSpec[] {
  const file = (path: string, mode: number, content: string): FileSpec => ({
    path,
    owner: "root",
    group: "root",
    mode,
    content,
    // Pacemaker runs the unit: a restart here would start it on every controller at once.
  });
  return [
    file(`/etc/systemd/system/${ENGINE_UNIT}`, 0o644, renderEngineUnit()),
    file(ENGINE_CONFIG_PATH, 0o644, `${JSON.stringify(engineConfig(ctx.topology, host), null, 2)}\n`),
    file(ENGINE_SECRETS_PATH, 0o600, engineSecretsText(ctx)),
  ];
}

/** Where the engine's program goes on a controller (its main is ENGINE_MAIN). */
export const ENGINE_DIR = "/opt/hastack/engine";
/** The native heartbeat receiver, shipped with the engine (programs.ts), built on the deploying machine. */
export const ENGINE_RECEIVER_PATH = "bin/hb-recv";
export const ENGINE_RECEIVER = `${ENGINE_DIR}/${ENGINE_RECEIVER_PATH}`;
