/**
 * @module
 * The engine's ear: one UDP socket per address it listens on (a management address and a storage
 * address of the controller), every packet through the verifier, and for each compute the last
 * heartbeat it sent over each network with the monotonic time it arrived. The state machine reads
 * this view; nothing here decides anything.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { HastackError } from "../util/errors.ts";
import type { Arrival, Heartbeat, HeartbeatNetwork, HeartbeatVerifier, Verdict } from "./heartbeat.ts";

export interface Bind {
  network: HeartbeatNetwork;
  address: string;
  /** 0 picks a free port (tests); `addresses()` tells which. */
  port: number;
}

/** A verified heartbeat and when it arrived, on the receiver's monotonic clock (ms). */
export interface Seen {
  heartbeat: Heartbeat;
  at: number;
}

/**
 * What the engine knows of one compute: the last heartbeat per network, if any came yet. Read it,
 * do not keep it: a receiver may update a Seen in place (the native one does).
 */
export type HostView = Partial<Record<HeartbeatNetwork, Seen>>;

export interface Receiver {
  /** Per compute; a host appears with its first verified heartbeat. */
  readonly hosts: ReadonlyMap<string, HostView>;
  /** The bound addresses, with the ports a port 0 turned into. */
  addresses(): Bind[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  binds: readonly Bind[];
  verifier: HeartbeatVerifier;
  /**
   * Monotonic milliseconds. Heartbeat ages are measured on this clock, never on the wall clock:
   * an NTP step on the controller must not make every compute look silent at once.
   * @default performance.now
   */
  clock?: () => number;
  /** Each packet's verdict, after the view is updated (tests, counters). */
  onVerdict?: (verdict: Verdict, arrival: Arrival) => void;
  /**
   * Kernel receive buffer per socket, bytes. 5,000 computes send 10,000 packets a second; the
   * default buffer (about 200 KiB, ~150 packets) overflows while an evaluation holds the event
   * loop for a few ms. Linux caps it at net.core.rmem_max.
   * @default 4 MiB
   */
  receiveBufferBytes?: number;
}

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const clock = options.clock ?? (() => performance.now());
  const hosts = new Map<string, HostView>();
  const sockets: { bind: Bind; socket: Socket }[] = [];

  function receive(network: HeartbeatNetwork, packet: Buffer, source: string): void {
    const arrival: Arrival = { network, source };
    const verdict = options.verifier.verify(packet, arrival);
    if (verdict.ok) {
      const { heartbeat } = verdict;
      const view = hosts.get(heartbeat.host);
      const seen: Seen = { heartbeat, at: clock() };
      if (view) view[network] = seen;
      else hosts.set(heartbeat.host, { [network]: seen });
    }
    options.onVerdict?.(verdict, arrival);
  }

  try {
    for (const bind of options.binds) {
      const socket = await bindSocket(bind, options.receiveBufferBytes ?? 4 * 1024 * 1024);
      socket.on("message", (packet, rinfo) => receive(bind.network, packet, rinfo.address));
      sockets.push({ bind, socket });
    }
  } catch (error) {
    await Promise.all(sockets.map(({ socket }) => closeSocket(socket)));
    throw error;
  }

  return {
    hosts,
    addresses: () => sockets.map(({ bind, socket }) => ({ ...bind, port: socket.address().port })),
    close: async () => {
      await Promise.all(sockets.map(({ socket }) => closeSocket(socket)));
    },
  };
}

function bindSocket(bind: Bind, receiveBufferBytes: number): Promise<Socket> {
  const socket = createSocket({
    type: isIPv6(bind.address) ? "udp6" : "udp4",
    recvBufferSize: receiveBufferBytes,
  });
  return new Promise((resolve, reject) => {
    function failed(error: Error): void {
      socket.close();
      reject(
        new HastackError(
          "E_HA_BIND",
          `Cannot listen for ${bind.network} heartbeats on ${bind.address}:${bind.port}: ${error.message}`,
          { cause: error, hint: "the address must be one of this controller's, and the port free" },
        ),
      );
    }
    socket.once("error", failed);
    socket.bind({ address: bind.address, port: bind.port, exclusive: true }, () => {
      socket.off("error", failed);
      // After the bind, an error (ICMP, a full buffer) concerns one packet: there is no one to
      // throw to, and the next heartbeat comes within a second.
      socket.on("error", () => {});
      resolve(socket);
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
