/**
 * @module
 * The heartbeat the agent on every compute sends each second, once over the management network
 * and once over the storage network, and the checks the engine runs on every packet it receives.
 *
 * A packet is: "HAHB", a version byte, the host name (a length byte, then ASCII), the epoch (float64
 * ms), the sequence number (uint32), the send time (float64 ms), a 32-byte HMAC-SHA256, then the
 * rest of the heartbeat as UTF-8 JSON (the body). The MAC covers everything but itself. Its key is
 * derived from the site's secret and the host name (`hostKey`), so an agent holds only its own key:
 * a compromised compute cannot speak for another one. That matters because heartbeats carry bad
 * news too: a forged "storage unreachable" from a live host would get it fenced.
 *
 * What changes every second (sequence, send time) is in the binary header; the body changes only
 * when what the agent sees changes. So the receiver parses and validates a body once, and for the
 * next packets of that host and network whose body bytes are the same, reuses it: byte-identical
 * to bytes already validated is the same value. Verifying then costs a few µs a packet, most of
 * it the MAC (bench/ha-engine.bench.ts measures the whole receiver).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { HastackError } from "../util/errors.ts";
import { hmacSha256, type MacKey, macKey } from "./mac.ts";

export const HEARTBEAT_NETWORKS = ["management", "storage"] as const;
export type HeartbeatNetwork = (typeof HEARTBEAT_NETWORKS)[number];

/**
 * The largest packet accepted (and sent). 16 KiB holds a few hundred VM uuids; anything larger is
 * refused before any work is spent on it, so a flood of big packets costs a length check each.
 */
export const MAX_PACKET_BYTES = 16 * 1024;
/** More VMs than one compute can run (Nova's default max_instances_per_host is unlimited; 300 is plenty). */
export const MAX_VMS = 300;

const MAGIC = Buffer.from("HAHB", "latin1");
const VERSION = 1;
const MAC_BYTES = 32;
/** magic, version, host length */
const FIXED_HEADER = MAGIC.length + 2;
/** epoch (float64), seq (uint32), sentAt (float64) after the host name */
const COUNTERS = 8 + 4 + 8;
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const Heartbeat = z.strictObject({
  site: z.string().min(1).max(64),
  host: z.string().regex(HOST_NAME),
  /** The network the agent sent this copy over: checked against the socket it arrived on. */
  network: z.enum(HEARTBEAT_NETWORKS),
  /**
   * When the agent started (ms since the Unix epoch, raised past the last one it used if the
   * clock went back). Sequence numbers restart at 0 with each epoch, so a restarted agent is
   * heard at once, while a packet recorded before the restart (an older epoch) is a replay.
   */
  epoch: z.int().min(0),
  /** 0 to 2^32 - 1: 136 years at one a second. */
  seq: z.int().min(0).max(0xffff_ffff),
  /** The agent's wall clock, ms: shown as clock skew, never used to decide. */
  sentAt: z.int().min(0),
  /**
   * /proc/sys/kernel/random/boot_id. A fenced host counts as back only with another boot id: a
   * host fenced through Ceph (its BMC dead) may still run the old copies of its VMs until it reboots.
   */
  bootId: z.string().min(1).max(64),
  novaCompute: z.boolean(),
  libvirt: z.boolean(),
  /** The agent's own probe of the storage addresses (Ceph monitors) answered. */
  storageReachable: z.boolean(),
  /** Uuids of the domains libvirt runs. */
  vms: z.array(z.string().regex(UUID)).max(MAX_VMS),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** The JSON part of a packet: the heartbeat without its counters. */
const Body = Heartbeat.omit({ epoch: true, seq: true, sentAt: true });
type Body = z.infer<typeof Body>;

/** Why a packet was dropped; each reason is counted. */
export type DropReason =
  | "oversized"
  | "malformed"
  | "unknown-host"
  | "wrong-source"
  | "forged"
  | "wrong-site"
  | "wrong-network"
  | "replayed"
  | "old-epoch";

export const DROP_REASONS: readonly DropReason[] = [
  "oversized",
  "malformed",
  "unknown-host",
  "wrong-source",
  "forged",
  "wrong-site",
  "wrong-network",
  "replayed",
  "old-epoch",
];

/** The key one host signs with: the agent on that host is given this, never the site's secret. */
export function hostKey(siteSecret: string | Buffer, site: string, host: string): Buffer {
  return createHmac("sha256", siteSecret)
    .update(`hastack instance-ha heartbeat v1\0${site}\0${host}`)
    .digest();
}

/** The packet for one heartbeat, signed with the host's key (`hostKey`). */
export function encodeHeartbeat(heartbeat: Heartbeat, key: Buffer | MacKey): Buffer {
  const host = Buffer.from(heartbeat.host, "latin1");
  // Fixed key order: the same state gives the same bytes, which is what the receiver's reuse needs.
  const { site, network, bootId, novaCompute, libvirt, storageReachable, vms } = heartbeat;
  const fields: Body = {
    site,
    host: heartbeat.host,
    network,
    bootId,
    novaCompute,
    libvirt,
    storageReachable,
    vms,
  };
  const body = Buffer.from(JSON.stringify(fields), "utf8");
  const headerLength = FIXED_HEADER + host.length + COUNTERS;
  const size = headerLength + MAC_BYTES + body.length;
  if (size > MAX_PACKET_BYTES) {
    throw new HastackError(
      "E_HA_HEARTBEAT_SIZE",
      `Cannot send the heartbeat of ${heartbeat.host}: ${size} bytes, more than ${MAX_PACKET_BYTES}`,
      { hint: `it lists ${heartbeat.vms.length} VMs; a heartbeat holds at most ${MAX_VMS}` },
    );
  }
  const packet = Buffer.alloc(size);
  MAGIC.copy(packet, 0);
  packet[MAGIC.length] = VERSION;
  packet[MAGIC.length + 1] = host.length;
  host.copy(packet, FIXED_HEADER);
  let at = FIXED_HEADER + host.length;
  at = packet.writeDoubleBE(heartbeat.epoch, at);
  at = packet.writeUInt32BE(heartbeat.seq, at);
  packet.writeDoubleBE(heartbeat.sentAt, at);
  body.copy(packet, headerLength + MAC_BYTES);
  const prepared = Buffer.isBuffer(key) ? macKey(key) : key;
  const mac = hmacSha256(prepared, [packet.subarray(0, headerLength), body]);
  mac.copy(packet, headerLength);
  return packet;
}

/** Where a packet came in: the network of the socket it arrived on, and its source address. */
export interface Arrival {
  network: HeartbeatNetwork;
  source: string;
}

export type Verdict = { ok: true; heartbeat: Heartbeat } | { ok: false; reason: DropReason };

export interface HeartbeatVerifier {
  verify(packet: Buffer, arrival: Arrival): Verdict;
  /** Packets accepted, and dropped by reason, since the verifier was made. */
  stats(): VerifierStats;
}

export interface VerifierStats {
  accepted: number;
  drops: Record<DropReason, number>;
}

export interface VerifierOptions {
  site: string;
  siteSecret: string | Buffer;
  /**
   * The computes of the site, each with its address per network when known: a packet from
   * another source address is dropped (a check before the MAC, so floods cost little).
   */
  hosts: ReadonlyMap<string, Partial<Record<HeartbeatNetwork, string>>>;
}

interface Slot {
  epoch: number;
  seq: number;
  /** The last accepted body's bytes and value, reused while the bytes stay the same. */
  bodyBytes: Buffer;
  body: Body;
}

/**
 * Checks packets in order of cost: size, header, known host, source address, MAC, replay, body
 * (JSON and schema, unless byte-identical to the last accepted one), site, network. Only a packet
 * that passes every check moves the replay window. State is per known host and network, so
 * unknown senders cannot grow it.
 */
export function createVerifier(options: VerifierOptions): HeartbeatVerifier {
  const keys = new Map<string, MacKey>();
  for (const host of options.hosts.keys())
    keys.set(host, macKey(hostKey(options.siteSecret, options.site, host)));
  const slots = new Map<string, Partial<Record<HeartbeatNetwork, Slot>>>();
  const drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  let accepted = 0;

  function drop(reason: DropReason): Verdict {
    drops[reason]++;
    return { ok: false, reason };
  }

  function verify(packet: Buffer, arrival: Arrival): Verdict {
    if (packet.length > MAX_PACKET_BYTES) return drop("oversized");
    if (packet.length < FIXED_HEADER + 1 + COUNTERS + MAC_BYTES + 2) return drop("malformed");
    if (packet.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0 || packet[MAGIC.length] !== VERSION) {
      return drop("malformed");
    }
    const hostEnd = FIXED_HEADER + (packet[MAGIC.length + 1] as number);
    const headerEnd = hostEnd + COUNTERS;
    const macEnd = headerEnd + MAC_BYTES;
    if (macEnd >= packet.length) return drop("malformed");
    const host = packet.toString("latin1", FIXED_HEADER, hostEnd);
    const key = keys.get(host);
    if (!key) return drop("unknown-host");
    const expectedSource = options.hosts.get(host)?.[arrival.network];
    if (expectedSource !== undefined && expectedSource !== plainAddress(arrival.source)) {
      return drop("wrong-source");
    }
    const mac = hmacSha256(key, [packet.subarray(0, headerEnd), packet.subarray(macEnd)]);
    if (!timingSafeEqual(mac, packet.subarray(headerEnd, macEnd))) return drop("forged");

    // Signed from here on: a failure below is an agent's bug, not an attack. Still dropped and counted.
    const epoch = packet.readDoubleBE(hostEnd);
    const seq = packet.readUInt32BE(hostEnd + 8);
    const sentAt = packet.readDoubleBE(hostEnd + 12);
    if (!Number.isSafeInteger(epoch) || epoch < 0 || !Number.isSafeInteger(sentAt) || sentAt < 0) {
      return drop("malformed");
    }
    const hostSlots = slots.get(host);
    const slot = hostSlots?.[arrival.network];
    if (slot && epoch < slot.epoch) return drop("old-epoch");
    if (slot && epoch === slot.epoch && seq <= slot.seq) return drop("replayed");

    const bodyBytes = packet.subarray(macEnd);
    let body: Body;
    if (slot && bodyBytes.equals(slot.bodyBytes)) {
      // Passed the schema, site and network checks when it was first accepted on this slot.
      body = slot.body;
    } else {
      const read = readBody(bodyBytes, { host, network: arrival.network, site: options.site });
      if (!read.ok) return drop(read.reason);
      body = read.body;
    }

    // A copy, kept only when the body changed: a view would pin the whole receive buffer.
    if (slot) {
      slot.epoch = epoch;
      slot.seq = seq;
      if (body !== slot.body) {
        slot.bodyBytes = Buffer.from(bodyBytes);
        slot.body = body;
      }
    } else {
      const fresh: Slot = { epoch, seq, bodyBytes: Buffer.from(bodyBytes), body };
      if (hostSlots) hostSlots[arrival.network] = fresh;
      else slots.set(host, { [arrival.network]: fresh });
    }
    accepted++;
    return { ok: true, heartbeat: { ...body, epoch, seq, sentAt } };
  }

  return { verify, stats: () => ({ accepted, drops: { ...drops } }) };
}

/** A heartbeat's body: the heartbeat without the counters that change every second. */
export type HeartbeatBody = Body;

/**
 * A signed packet's body (the bytes after the MAC) read and checked: JSON, the schema, and the
 * host, site and network it must name. The native receiver (native/hb-recv.c) checks everything
 * before the body itself and hands each new body here.
 */
export function readBody(
  bytes: Buffer,
  expect: { host: string; network: HeartbeatNetwork; site: string },
): { ok: true; body: HeartbeatBody } | { ok: false; reason: DropReason } {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const parsed = Body.safeParse(json);
  if (!parsed.success || parsed.data.host !== expect.host) return { ok: false, reason: "malformed" };
  if (parsed.data.site !== expect.site) return { ok: false, reason: "wrong-site" };
  if (parsed.data.network !== expect.network) return { ok: false, reason: "wrong-network" };
  return { ok: true, body: parsed.data };
}

/** A dual-stack socket reports IPv4 senders as ::ffff:a.b.c.d; the inventory writes a.b.c.d. */
function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
