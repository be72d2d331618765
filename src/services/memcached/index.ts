import type { ConfigDoc } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { controllerNames } from "../hosts.ts";
import type { ServiceDef } from "../types.ts";
import { memcachedHealth } from "./health.ts";
import { MEMCACHED_PORT, MemcachedSettings, memcachedSettings } from "./settings.ts";
import { memcachedSteps } from "./steps.ts";

/** /etc/memcached.conf (Debian's wrapper reads one option per line). */
export function memcachedConfig(topology: Topology, host: ResolvedHost): ConfigDoc {
  const m = memcachedSettings(topology);
  return {
    format: "space",
    header: ["Rendered by hastack. Clients list every controller; memcached itself does not cluster."],
    sections: [
      {
        name: "",
        entries: [
          // The management address only: the runbook's -l 0.0.0.0 exposes the cache (E14).
          ["-l", host.ip],
          ["-p", String(MEMCACHED_PORT)],
          // No UDP listener: UDP memcached is an amplification vector (E14).
          ["-U", "0"],
          ["-m", String(m.memory_mb)],
          ["-c", String(m.max_connections)],
          ["-u", "memcache"],
          ["-P", "/var/run/memcached/memcached.pid"],
          ["logfile", "/var/log/memcached.log"],
        ],
      },
    ],
  };
}

export const memcached: ServiceDef = {
  id: "memcached",
  title: "memcached on every controller",
  after: ["rabbitmq"],
  hosts: controllerNames,
  state: "implemented",
  settings: { memcached: MemcachedSettings },
  components: [
    { name: "memcached", role: "controller", packages: ["memcached"], units: ["memcached.service"] },
  ],
  secrets: [
    {
      name: "memcache_secret_key",
      kind: "hex-32",
      description: "keystonemiddleware memcache_secret_key (encrypts cached tokens)",
    },
  ],
  files: (ctx, host) => [
    {
      path: "/etc/memcached.conf",
      owner: "root",
      group: "root",
      mode: 0o644,
      content: memcachedConfig(ctx.topology, host),
      onChange: { restart: ["memcached"] },
    },
  ],
  listens: (_topology, host) => [
    { address: host.ip, port: MEMCACHED_PORT, proto: "tcp", owner: "memcached" },
  ],
  health: () => memcachedHealth(),
  steps: () => memcachedSteps(),
};

export { MEMCACHED_PORT } from "./settings.ts";
