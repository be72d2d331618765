import type { ResolvedHost, Topology } from "../topology/types.ts";
import { HastackError } from "../util/errors.ts";
import { SshTransport } from "./ssh-transport.ts";
import type { Transport } from "./types.ts";

export interface PoolOptions {
  trustNewHostKeys?: boolean;
}

export interface TransportPool {
  /** The transport of a host, opened on first use and reused afterwards. */
  get(host: string): Transport;
  closeAll(): Promise<void>;
}

/** One SSH transport per inventory host, with the host keys pinned in the inventory's known_hosts. */
export function sshPool(topology: Topology, options: PoolOptions = {}): TransportPool {
  const open = new Map<string, Transport>();
  function get(name: string): Transport {
    const existing = open.get(name);
    if (existing) return existing;
    const host = topology.hosts.find((h) => h.name === name);
    if (!host) throw new HastackError("E_UNKNOWN_HOST", `Cannot reach ${name}: it is not in the inventory`);
    const transport = new SshTransport(sshOptions(host, options));
    open.set(name, transport);
    return transport;
  }
  async function closeAll(): Promise<void> {
    await Promise.all([...open.values()].map((t) => t.close().catch(() => undefined)));
    open.clear();
  }
  return { get, closeAll };
}

function sshOptions(host: ResolvedHost, options: PoolOptions) {
  const knownHostsPath = host.ssh.knownHosts ?? `${process.env.HOME ?? "/root"}/.ssh/known_hosts`;
  return {
    name: host.name,
    address: host.ip,
    port: host.ssh.port,
    user: host.ssh.user,
    knownHostsPath,
    trustNewHostKeys: options.trustNewHostKeys ?? false,
    ...(host.ssh.key ? { privateKeyPath: host.ssh.key } : {}),
  };
}
