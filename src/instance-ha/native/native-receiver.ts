/**
 * @module
 * The engine's ear with the per-packet work in C (hb-recv.c says why): the same `Receiver` as
 * receiver.ts, fed by the hb-recv child's records instead of one node:dgram event per packet.
 * The child checks every packet up to its body (size, header, host, source, MAC, replay) and sends
 * each new body, which is read here (heartbeat.ts's `readBody`), and every `tickMs` the last
 * counters and arrival time of every host and network it heard.
 *
 * A heartbeat's arrival time is the child's (CLOCK_MONOTONIC, the clock performance.now() runs
 * on), so a tick's delay adds nothing to a heartbeat's age; it only shows it up to `tickMs` later.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { HastackError } from "../../util/errors.ts";
import {
  DROP_REASONS,
  type DropReason,
  HEARTBEAT_NETWORKS,
  type HeartbeatNetwork,
  hostKey,
  readBody,
  type VerifierStats,
} from "../heartbeat.ts";
import type { Bind, HostView, Receiver, Seen } from "../receiver.ts";

export interface NativeReceiverOptions {
  /** The built hb-recv (native/build.ts). */
  program: string;
  binds: readonly Bind[];
  site: string;
  siteSecret: string | Buffer;
  /** As the verifier's: the computes, each with its address per network when known. */
  hosts: ReadonlyMap<string, Partial<Record<HeartbeatNetwork, string>>>;
  /** How often the child reports what it heard, ms. @default 100 */
  tickMs?: number;
  /** Per socket, bytes (receiver.ts says why 4 MiB). @default 4 MiB */
  receiveBufferBytes?: number;
  /** The child ended or broke while running: the engine is deaf from here on. */
  onFailure?: (error: HastackError) => void;
}

export interface NativeReceiver extends Receiver {
  stats(): VerifierStats;
  /** The hb-recv child's (its CPU is the engine's too: bench/ha-engine.bench.ts adds it). */
  readonly pid: number | undefined;
}

/** The child's drop counters, in hb-recv.c's order; wrong-site and wrong-network are told here. */
const CHILD_DROPS: readonly DropReason[] = [
  "oversized",
  "malformed",
  "unknown-host",
  "wrong-source",
  "forged",
  "replayed",
  "old-epoch",
];
const ENTRY_BYTES = 4 + 1 + 4 + 4 + 8 + 4 + 8 + 8;

interface BodySlot {
  gen: number;
  read: ReturnType<typeof readBody>;
  /** What the view shows for this body, made at its first tick. */
  seen?: Seen;
}

/**
 * A u64 as a number, without a BigInt per read: exact below 2^53; nanoseconds since boot pass
 * that after 104 days, and are then off by a few ns, which nothing here measures.
 */
function ns(b: Buffer, at: number): number {
  return b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 0x1_0000_0000;
}

export async function startNativeReceiver(options: NativeReceiverOptions): Promise<NativeReceiver> {
  const names = [...options.hosts.keys()];
  const hosts = new Map<string, HostView>();
  const bodies = new Map<number, BodySlot>(); // key: host index * 2 + network
  const childDrops = new Array<number>(CHILD_DROPS.length).fill(0);
  const ownDrops: Partial<Record<DropReason, number>> = {};
  let childAccepted = 0;
  let refused = 0; // accepted by the child, refused here for their body
  // performance.now() and the child's CLOCK_MONOTONIC differ by a constant: process.hrtime is that clock.
  const offset = performance.now() - Number(process.hrtime.bigint()) / 1e6;

  const child: ChildProcess = spawn(options.program, [], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString("utf8")).slice(-2000);
  });
  let ports: Bind[] | undefined;
  let closing = false;
  let settle: { resolve: () => void; reject: (e: HastackError) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  function failed(why: string): void {
    const where = options.binds.map((b) => `${b.address}:${b.port}`).join(", ");
    const error = new HastackError("E_HA_BIND", `Cannot receive heartbeats on ${where}: ${why}`, {
      hint: `the heartbeat receiver ${options.program} ended; the address must be one of this controller's, and the port free`,
    });
    if (!ports) settle?.reject(error);
    else if (!closing) options.onFailure?.(error);
  }
  child.on("error", (e) => failed(e.message));
  child.on("exit", (code, signal) => {
    if (!closing) failed(`exit ${signal ?? `code ${code}`}${stderr ? `: ${stderr.trim()}` : ""}`);
  });

  function onBody(payload: Buffer): void {
    const index = payload.readUInt32LE(0);
    const net = payload[4] as number;
    const gen = payload.readUInt32LE(5);
    const host = names[index];
    const network = HEARTBEAT_NETWORKS[net];
    if (host === undefined || network === undefined) return;
    // Counted by the tick that reports its packets (the first one included).
    bodies.set(index * 2 + net, {
      gen,
      read: readBody(payload.subarray(9), { host, network, site: options.site }),
    });
  }

  function onTick(payload: Buffer): void {
    childAccepted = ns(payload, 8);
    for (let i = 0; i < CHILD_DROPS.length; i++) childDrops[i] = ns(payload, 16 + 8 * i);
    let at = 16 + 8 * CHILD_DROPS.length;
    const count = payload.readUInt32LE(at);
    at += 4;
    for (let e = 0; e < count; e++, at += ENTRY_BYTES) {
      const index = payload.readUInt32LE(at);
      const net = payload[at + 4] as number;
      const gen = payload.readUInt32LE(at + 5);
      const packets = payload.readUInt32LE(at + 9);
      const host = names[index];
      const network = HEARTBEAT_NETWORKS[net];
      const slot = bodies.get(index * 2 + net);
      if (host === undefined || network === undefined || slot?.gen !== gen) continue;
      if (!slot.read.ok) {
        // Every packet of the interval under the last body's verdict: a host whose body changed
        // twice within one tick (never, at one packet a second) is counted by its last.
        const reason = slot.read.reason;
        ownDrops[reason] = (ownDrops[reason] ?? 0) + packets;
        refused += packets;
        continue;
      }
      // One Seen per host, network and body, updated in place: allocating two objects for each of
      // 10,000 packets a second made the garbage collector this process's largest cost.
      let seen = slot.seen;
      if (!seen) {
        seen = { heartbeat: { ...slot.read.body, epoch: 0, seq: 0, sentAt: 0 }, at: 0 };
        slot.seen = seen;
      }
      seen.heartbeat.epoch = payload.readDoubleLE(at + 13);
      seen.heartbeat.seq = payload.readUInt32LE(at + 21);
      seen.heartbeat.sentAt = payload.readDoubleLE(at + 25);
      seen.at = ns(payload, at + 33) / 1e6 + offset;
      const view = hosts.get(host);
      if (!view) hosts.set(host, { [network]: seen });
      else if (view[network] !== seen) view[network] = seen;
    }
  }

  function onReady(payload: Buffer): void {
    ports = [];
    for (let at = 0; at + 3 <= payload.length; at += 3) {
      const bind = options.binds.find((b) => b.network === HEARTBEAT_NETWORKS[payload[at] as number]);
      if (bind) ports.push({ ...bind, port: payload.readUInt16LE(at + 1) });
    }
    settle?.resolve();
  }

  let pending: Buffer = Buffer.alloc(0);
  child.stdout?.on("data", (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    while (pending.length - at >= 5) {
      const length = pending.readUInt32LE(at + 1);
      if (pending.length - at - 5 < length) break;
      const type = String.fromCharCode(pending[at] as number);
      const payload = pending.subarray(at + 5, at + 5 + length);
      if (type === "T") onTick(payload);
      else if (type === "B") onBody(payload);
      else if (type === "R") onReady(payload);
      else if (type === "E") failed(payload.toString("utf8"));
      at += 5 + length;
    }
    // A copy of the rest: a view would pin the whole chunk until the next one.
    pending = at === pending.length ? Buffer.alloc(0) : Buffer.from(pending.subarray(at));
  });

  const lines = [
    ...options.binds.map(
      (b) =>
        `bind ${HEARTBEAT_NETWORKS.indexOf(b.network)} ${b.address} ${b.port} ${options.receiveBufferBytes ?? 4 * 1024 * 1024}`,
    ),
    ...names.map((name, i) => {
      const a = options.hosts.get(name) ?? {};
      const key = hostKey(options.siteSecret, options.site, name).toString("hex");
      return `host ${i} ${name} ${key} ${a.management ?? "-"} ${a.storage ?? "-"}`;
    }),
    `tick ${options.tickMs ?? 100}`,
    "end",
  ];
  // The keys go over the pipe, never on the command line (ps shows that to every user).
  child.stdin?.on("error", () => {}); // EPIPE when the child died: reported by its exit
  child.stdin?.write(`${lines.join("\n")}\n`);
  await ready;

  return {
    hosts,
    pid: child.pid,
    addresses: () => ports ?? [],
    stats() {
      const drops = Object.fromEntries(DROP_REASONS.map((r) => [r, ownDrops[r] ?? 0])) as Record<
        DropReason,
        number
      >;
      CHILD_DROPS.forEach((r, i) => {
        drops[r] += childDrops[i] ?? 0;
      });
      return { accepted: childAccepted - refused, drops };
    },
    async close() {
      closing = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.stdin?.end(); // the child ends when its stdin does
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
