import type { RenderContext, ServiceDef } from "../types.ts";
import { chronyConfig, etcHosts, MODULES_LOAD, sysctlConfig } from "./files.ts";
import { hostPrepDiagnostics, hostPrepHealth } from "./health.ts";
import { hostPrepSteps } from "./steps.ts";

export const hostPrep: ServiceDef = {
  id: "host-prep",
  title: "Host preparation: names, kernel settings, time",
  hosts: (topology) => topology.hosts.map((h) => h.name),
  state: "implemented",
  // Every role: chrony is what keeps Galera and corosync from clock jumps.
  components: (["controller", "compute", "storage"] as const).map((role) => ({
    name: `host-${role}`,
    role,
    packages: ["chrony", "iproute2", "kmod", "procps"],
    units: ["chrony.service"],
  })),
  files: (ctx, host) => [
    { path: "/etc/hosts", owner: "root", group: "root", mode: 0o644, content: sharedEtcHosts(ctx) },
    {
      path: "/etc/sysctl.d/60-hastack.conf",
      owner: "root",
      group: "root",
      mode: 0o644,
      content: sysctlConfig(host),
      onChange: { restart: ["systemd-sysctl"] },
    },
    {
      path: "/etc/modules-load.d/hastack.conf",
      owner: "root",
      group: "root",
      mode: 0o644,
      content: MODULES_LOAD,
      onChange: { restart: ["systemd-modules-load"] },
    },
    {
      path: "/etc/chrony/chrony.conf",
      owner: "root",
      group: "root",
      mode: 0o644,
      content: chronyConfig(ctx.topology, host),
      onChange: { restart: ["chrony"] },
    },
  ],
  listens: (_topology, host) =>
    host.controllerIndex > 0 ? [{ address: "0.0.0.0", port: 123, proto: "udp", owner: "chrony" }] : [],
  steps: () => hostPrepSteps(),
  health: hostPrepHealth,
  diagnostics: hostPrepDiagnostics,
};

/**
 * /etc/hosts is the same on every host and lists every host: one text per render, shared by all
 * hosts. Built per host it was quadratic in time and memory (1 GB of strings for 5,000 computes).
 */
function sharedEtcHosts(ctx: RenderContext): string {
  let text = etcHostsOf.get(ctx);
  if (text === undefined) {
    text = etcHosts(ctx.topology);
    etcHostsOf.set(ctx, text);
  }
  return text;
}

const etcHostsOf = new WeakMap<RenderContext, string>();
