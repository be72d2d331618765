import type { Topology } from "../../topology/types.ts";
import { controllerNames } from "../hosts.ts";
import { services } from "../registry.ts";
import type { Frontend, ServiceDef } from "../types.ts";
import { haproxyConfig } from "./config.ts";
import { haproxyHealth } from "./health.ts";
import { haproxySteps } from "./steps.ts";
import { haproxyPacemaker } from "./vips.ts";

/** Every frontend of every deployed service, in registry order. HAProxy never names a service. */
export function allFrontends(topology: Topology): Frontend[] {
  return services.flatMap((s) => (s.frontends && s.hosts(topology).length > 0 ? s.frontends(topology) : []));
}

export const haproxy: ServiceDef = {
  id: "haproxy",
  title: "HAProxy load balancer on every controller",
  // Not after pacemaker: its config must be on disk before the CIB makes Pacemaker start it
  // (pacemaker.cib waits for haproxy.unit; haproxy.vip-up waits for pacemaker.started).
  after: ["host-prep"],
  hosts: controllerNames,
  packages: () => ["haproxy"],
  secrets: [
    { name: "haproxy_stats", kind: "password", description: "HAProxy stats page password (user hastack)" },
  ],
  files: (ctx, host) => [
    {
      path: "/etc/haproxy/haproxy.cfg",
      owner: "root",
      group: "haproxy",
      // The stats password is in it.
      mode: 0o640,
      content: haproxyConfig(ctx.topology, host, allFrontends(ctx.topology), ctx.secret("haproxy_stats")),
      onChange: { reload: ["haproxy"] },
    },
  ],
  pacemaker: haproxyPacemaker,
  listens: (topology, host) => [
    { address: host.ip, port: topology.settings.haproxy.stats_port, proto: "tcp", owner: "haproxy stats" },
  ],
  health: () => haproxyHealth(),
  steps: (topology) => haproxySteps(topology.vipManager),
};
