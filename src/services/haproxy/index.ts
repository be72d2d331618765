import type { Topology } from "../../topology/types.ts";
import { isDeployed } from "../deployable.ts";
import { controllerNames } from "../hosts.ts";
import type { Frontend, ServiceDef } from "../types.ts";
import { haproxyConfig } from "./config.ts";
import { haproxyHealth } from "./health.ts";
import { HaproxySettings, haproxySettings } from "./settings.ts";
import { haproxySteps } from "./steps.ts";
import { tlsFiles } from "./tls.ts";
import { publicTlsProbes } from "./tls-health.ts";
import { haproxyPacemaker } from "./vips.ts";

/**
 * Every frontend of every deployed service, in the site's order. HAProxy never names a service,
 * and a declared one gets no listener: nothing would answer behind it (the runbook's E30).
 */
export function allFrontends(topology: Topology, services: readonly ServiceDef[]): Frontend[] {
  return services.flatMap((s) => (s.frontends && isDeployed(s, topology) ? s.frontends(topology) : []));
}

export const haproxy: ServiceDef = {
  id: "haproxy",
  title: "HAProxy load balancer on every controller",
  state: "implemented",
  settings: { haproxy: HaproxySettings },
  // Not after pacemaker: its config must be on disk before the CIB makes Pacemaker start it
  // (pacemaker.cib waits for haproxy.unit; haproxy.vip-up waits for pacemaker.started).
  after: ["host-prep"],
  hosts: controllerNames,
  components: [{ name: "haproxy", role: "controller", packages: ["haproxy"], units: ["haproxy.service"] }],
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
      content: haproxyConfig(
        ctx.topology,
        host,
        allFrontends(ctx.topology, ctx.services),
        ctx.secret("haproxy_stats"),
      ),
      onChange: { reload: ["haproxy"] },
    },
    ...tlsFiles(ctx),
  ],
  pacemaker: haproxyPacemaker,
  listens: (topology, host) => [
    { address: host.ip, port: haproxySettings(topology).stats_port, proto: "tcp", owner: "haproxy stats" },
  ],
  health: (topology, services) => [
    ...haproxyHealth(),
    ...publicTlsProbes(topology, allFrontends(topology, services ?? [])),
  ],
  steps: (topology) => haproxySteps(topology.vipManager),
};
