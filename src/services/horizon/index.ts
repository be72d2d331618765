import type { Topology } from "../../topology/types.ts";
import { apiService } from "../openstack-api.ts";
import type { ServiceDef } from "../types.ts";

const http = apiService({
  id: "horizon",
  title: "Horizon dashboard",
  after: ["cinder"],
  // Session state lives in memcached, but a sticky cookie spares re-logins while a backend flaps.
  listeners: [{ endpoint: "horizon", name: "horizon", check: { kind: "http", path: "/" }, sticky: true }],
  secrets: [
    {
      name: "horizon_secret_key",
      kind: "hex-32",
      description: "Django SECRET_KEY of Horizon (same on every controller)",
    },
  ],
  packages: ["openstack-dashboard", "apache2"],
  steps: [
    {
      id: "config",
      title: "Write local_settings.py and the Apache vhost on the management address",
      on: "each",
    },
    {
      id: "start",
      title: "Restart Apache; wait until HAProxy sees every backend up",
      on: "each",
      after: ["config"],
    },
  ],
});

/** With horizon_tls, HTTPS passes through HAProxy to Apache on 443 (TCP, sticky by source). */
function tlsFrontends(topology: Topology) {
  if (!topology.settings.openstack.horizon_tls || !topology.endpoints.horizon) return [];
  const [plain] = http.frontends?.(topology) ?? [];
  if (!plain) return [];
  return [
    {
      ...plain,
      name: "horizon_tls",
      port: 443,
      mode: "tcp" as const,
      balance: "source" as const,
      check: { kind: "tcp" as const },
      backends: plain.backends.map((b) => ({ ...b, port: 443 })),
    },
  ];
}

export const horizon: ServiceDef = {
  ...http,
  frontends: (topology) => [...(http.frontends?.(topology) ?? []), ...tlsFrontends(topology)],
  listens: (topology, host) => [
    ...(http.listens?.(topology, host) ?? []),
    ...(tlsFrontends(topology).length > 0
      ? [{ address: host.ip, port: 443, proto: "tcp" as const, owner: "horizon_tls" }]
      : []),
  ],
};
