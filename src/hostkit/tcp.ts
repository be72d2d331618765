/**
 * @module
 * TCP from a host, as clients on the network see a service: connect to an address and port,
 * optionally send a request and read the reply. `socat` is the client (haproxy, memcached and
 * galera components install it); no bash `/dev/tcp` strings.
 */
import type { ExecOptions, Transport } from "../transport/types.ts";
import { lastLines } from "../util/text.ts";

export interface TcpAnswer {
  connected: boolean;
  /** What the server sent back before closing or going quiet. */
  reply: string;
  /** Why not connected (socat's last words). */
  error: string;
}

export interface TcpOptions extends ExecOptions {
  /** Seconds to wait for the connection. @default 3 */
  connectSeconds?: number;
  /** Seconds to keep reading after the request was sent. @default 2 */
  replySeconds?: number;
}

export function tcpArgv(address: string, port: number, connectSeconds = 3, replySeconds = 2): string[] {
  const target = address.includes(":") ? `TCP6:[${address}]:${port}` : `TCP4:${address}:${port}`;
  return [
    "socat",
    "-t",
    String(replySeconds),
    "-T",
    String(replySeconds + connectSeconds),
    "-",
    `${target},connect-timeout=${connectSeconds}`,
  ];
}

/** Connects from `t`'s host to address:port, writes `request` (may be empty), reads the answer. */
export async function tcpExchange(
  t: Transport,
  address: string,
  port: number,
  request = "",
  opts: TcpOptions = {},
): Promise<TcpAnswer> {
  const { connectSeconds = 3, replySeconds = 2, ...exec } = opts;
  const r = await t.exec(tcpArgv(address, port, connectSeconds, replySeconds), {
    timeoutMs: (connectSeconds + replySeconds + 5) * 1000,
    ...exec,
    stdin: request,
  });
  return { connected: r.code === 0, reply: r.stdout, error: r.code === 0 ? "" : lastLines(r.stderr, 1) };
}

/** Only whether something accepts connections there. */
export async function tcpOpen(
  t: Transport,
  address: string,
  port: number,
  opts: TcpOptions = {},
): Promise<boolean> {
  return (await tcpExchange(t, address, port, "", { replySeconds: 0, ...opts })).connected;
}
