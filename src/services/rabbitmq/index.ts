import type { ConfigDoc } from "../../formats/doc.ts";
import { journalArgv, sections } from "../../hostkit/journal.ts";
import { MANAGEMENT_PORT } from "../../hostkit/rabbitmq-http.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { controllerNames, controllers, erlangAddress } from "../hosts.ts";
import type { ServiceDef } from "../types.ts";
import { ADMIN_SECRET } from "./admin.ts";
import { rabbitmqHealth } from "./health.ts";
import { RabbitmqSettings, rabbitmqSettings } from "./settings.ts";
import { rabbitmqSteps } from "./steps.ts";

export const AMQP_PORT = 5672;
export const DIST_PORT = 25672;

/**
 * rabbitmq.conf. Every node lists every other (classic_config) and clients list every node too:
 * RabbitMQ is not behind HAProxy. Quorum queues replace the classic mirrored queues (`ha-mode`)
 * that RabbitMQ 4 removed.
 */
export function rabbitmqConfig(topology: Topology, host: ResolvedHost): ConfigDoc {
  const r = rabbitmqSettings(topology);
  return {
    format: "keyvalue",
    header: ["Rendered by hastack: RabbitMQ node settings."],
    sections: [
      {
        name: "",
        entries: [
          ["listeners.tcp.1", `${host.ip}:${AMQP_PORT}`],
          ["cluster_formation.peer_discovery_backend", "classic_config"],
          ...controllers(topology).map(
            (h, i) =>
              [`cluster_formation.classic_config.nodes.${i + 1}`, `rabbit@${h.name}`] as [string, string],
          ),
          // The minority side of a partition pauses instead of diverging.
          ["cluster_partition_handling", r.partition_handling],
          ["default_queue_type", r.default_queue_type],
          ["net_ticktime", String(r.net_ticktime_s)],
          // guest may only log in over loopback (a deploy step deletes it anyway).
          ["loopback_users.guest", "true"],
          // The management API on loopback only: hastack's probes and user steps ask it with
          // curl on the node instead of booting an Erlang VM per rabbitmqctl call. No stats
          // collection: hastack asks for nodes, users and queues, never message rates.
          ["management.tcp.ip", "127.0.0.1"],
          ["management.tcp.port", String(MANAGEMENT_PORT)],
          ["management_agent.disable_metrics_collector", "true"],
        ],
      },
    ],
  };
}

/** rabbitmq-env.conf: the node name and the distribution port on the management address. */
export function rabbitmqEnv(host: ResolvedHost): ConfigDoc {
  return {
    format: "shell-env",
    header: ["Rendered by hastack."],
    sections: [
      {
        name: "",
        entries: [
          ["NODENAME", `rabbit@${host.name}`],
          ["DIST_PORT", String(DIST_PORT)],
          ["SERVER_ADDITIONAL_ERL_ARGS", `-kernel inet_dist_use_interface ${erlangAddress(host.ip)}`],
          ["CTL_ERL_ARGS", "-proto_dist inet_tcp"],
        ],
      },
    ],
  };
}

export const rabbitmq: ServiceDef = {
  id: "rabbitmq",
  title: "RabbitMQ cluster on the controllers",
  after: ["galera"],
  hosts: controllerNames,
  state: "implemented",
  settings: { rabbitmq: RabbitmqSettings },
  components: [
    {
      name: "rabbitmq",
      role: "controller",
      packages: ["rabbitmq-server"],
      units: ["rabbitmq-server.service", "epmd.service", "epmd.socket"],
    },
  ],
  secrets: [
    {
      name: "erlang_cookie",
      kind: "erlang-cookie",
      description: "Erlang distribution cookie shared by the RabbitMQ nodes",
    },
    {
      name: "rabbitmq_openstack",
      kind: "password",
      description: "RabbitMQ password of the OpenStack services' user",
    },
    {
      name: ADMIN_SECRET,
      kind: "password",
      description: "RabbitMQ password of hastack's administrator (management API on loopback)",
    },
  ],
  files: (ctx, host) => [
    {
      path: "/etc/rabbitmq/rabbitmq.conf",
      owner: "root",
      group: "rabbitmq",
      mode: 0o640,
      content: rabbitmqConfig(ctx.topology, host),
      onChange: { restart: ["rabbitmq-server"] },
    },
    {
      path: "/etc/rabbitmq/rabbitmq-env.conf",
      owner: "root",
      group: "rabbitmq",
      mode: 0o644,
      content: rabbitmqEnv(host),
      onChange: { restart: ["rabbitmq-server"] },
    },
    {
      // Read by the node at start: the management API the probes and user steps use.
      path: "/etc/rabbitmq/enabled_plugins",
      owner: "root",
      group: "rabbitmq",
      mode: 0o644,
      content: "[rabbitmq_management].\n",
      onChange: { restart: ["rabbitmq-server"] },
    },
    {
      // No trailing newline: the cookie is the file's exact bytes.
      path: "/var/lib/rabbitmq/.erlang.cookie",
      owner: "rabbitmq",
      group: "rabbitmq",
      mode: 0o400,
      content: ctx.secret("erlang_cookie"),
      onChange: { restart: ["rabbitmq-server"] },
    },
  ],
  listens: (_topology, host) => [
    { address: host.ip, port: AMQP_PORT, proto: "tcp", owner: "rabbitmq" },
    { address: host.ip, port: DIST_PORT, proto: "tcp", owner: "rabbitmq distribution" },
    { address: "127.0.0.1", port: MANAGEMENT_PORT, proto: "tcp", owner: "rabbitmq management API" },
  ],
  health: rabbitmqHealth,
  // What `hastack diagnose` gathers: the broker's cluster view, alarms and its log.
  diagnostics: () => [
    {
      id: "state",
      title: "RabbitMQ cluster status and alarms",
      argv: () => sections(["rabbitmq-diagnostics -q cluster_status", "rabbitmq-diagnostics -q alarms"]),
      timeoutMs: 60_000,
    },
    {
      id: "journal",
      title: "RabbitMQ's log in the window",
      argv: (window) => journalArgv(["rabbitmq-server"], window),
      timeoutMs: 60_000,
    },
  ],
  steps: () => rabbitmqSteps(),
};
