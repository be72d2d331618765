import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HastackError } from "../util/errors.ts";
import {
  type Arrival,
  createVerifier,
  encodeHeartbeat,
  type Heartbeat,
  type HeartbeatNetwork,
  hostKey,
  MAX_PACKET_BYTES,
} from "./heartbeat.ts";

const SECRET = "site-secret-0123456789";
const VM = "0b9e3c52-6f1e-4d8a-9d35-1f0c7a9b2e11";

function beat(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    site: "lab",
    host: "cmp1",
    network: "management",
    epoch: 1_700_000_000_000,
    seq: 1,
    sentAt: 1_700_000_000_500,
    bootId: "6a1c4a8e-1d41-4a5f-8f43-0d6e1c2b9a77",
    novaCompute: true,
    libvirt: true,
    storageReachable: true,
    vms: [VM],
    ...overrides,
  };
}

function sign(hb: Heartbeat, host = hb.host, site = "lab", secret = SECRET): Buffer {
  return encodeHeartbeat(hb, hostKey(secret, site, host));
}

function verifier(sources: Partial<Record<HeartbeatNetwork, string>> = {}) {
  return createVerifier({
    site: "lab",
    siteSecret: SECRET,
    hosts: new Map([
      ["cmp1", sources],
      ["cmp2", {}],
    ]),
  });
}

const management: Arrival = { network: "management", source: "10.0.0.11" };
const storage: Arrival = { network: "storage", source: "10.1.0.11" };

/**
 * A packet with a valid MAC over any body: what an agent with a bug (or someone with its key)
 * could send. Signed with createHmac, so the verifier's own HMAC is checked against Node's.
 */
/** The JSON part of a heartbeat: everything but the counters, which travel in the binary header. */
function bodyOf(hb: Heartbeat): string {
  const { epoch: _e, seq: _s, sentAt: _t, ...body } = hb;
  return JSON.stringify(body);
}

function signedBody(body: string, counters: Heartbeat = beat()): Buffer {
  const host = counters.host;
  const headerLength = 6 + host.length + 20;
  const header = sign(counters).subarray(0, headerLength);
  const bytes = Buffer.from(body, "utf8");
  const mac = createHmac("sha256", hostKey(SECRET, "lab", host))
    .update(header)
    .update(bytes)
    .digest();
  return Buffer.concat([header, mac, bytes]);
}

describe("instance-ha/heartbeat", () => {
  it("accepts a heartbeat signed with its host's key, and returns what it says", () => {
    const v = verifier();

    const verdict = v.verify(sign(beat()), management);

    expect(verdict).toEqual({ ok: true, heartbeat: beat() });
    expect(v.stats().accepted).toBe(1);
  });

  it("drops a packet whose bytes were changed on the way (forged)", () => {
    const v = verifier();
    const packet = sign(beat());
    const flipped = Buffer.from(packet);
    flipped[flipped.length - 3] = (flipped.at(-3) as number) ^ 1;

    expect(v.verify(flipped, management)).toEqual({ ok: false, reason: "forged" });
  });

  it.each([
    ["another host's key (a compromised cmp1 speaking for cmp2)", sign(beat({ host: "cmp2" }), "cmp1")],
    ["another site's derivation", sign(beat(), "cmp1", "other-site")],
    ["another secret", sign(beat(), "cmp1", "lab", "not-the-secret")],
  ])("drops a packet signed with %s as forged", (_, packet) => {
    expect(verifier().verify(packet, management)).toEqual({ ok: false, reason: "forged" });
  });

  it.each([
    ["an empty packet", Buffer.alloc(0)],
    [
      "random bytes",
      Buffer.from("not a heartbeat at all, just text that is long enough to pass the size check"),
    ],
    ["another magic", Buffer.concat([Buffer.from("XXXX"), sign(beat()).subarray(4)])],
    ["another version", Buffer.concat([Buffer.from("HAHB"), Buffer.from([2]), sign(beat()).subarray(5)])],
    [
      "a host length past the end",
      Buffer.concat([Buffer.from("HAHB"), Buffer.from([1, 255]), Buffer.alloc(40)]),
    ],
    ["signed bytes that are not JSON", signedBody("{not json")],
    ["signed JSON of another shape", signedBody(JSON.stringify({ ...JSON.parse(bodyOf(beat())), extra: 1 }))],
    ["a signed VM that is not a uuid", signedBody(bodyOf(beat({ vms: ["../../etc/passwd"] })))],
    ["signed counters that are not whole numbers", sign(beat({ epoch: -1 }))],
    ["a signed body naming another host than the header", signedBody(bodyOf(beat({ host: "cmp2" })))],
  ])("drops %s as malformed", (_, packet) => {
    expect(verifier().verify(packet, management)).toEqual({ ok: false, reason: "malformed" });
  });

  it("accepts what the tests' own signer (createHmac) makes of a valid body: the cases above fail for their own reason", () => {
    expect(verifier().verify(signedBody(bodyOf(beat())), management).ok).toBe(true);
  });

  it("drops an oversized packet before reading it, and refuses to send one", () => {
    const v = verifier();

    expect(v.verify(Buffer.alloc(MAX_PACKET_BYTES + 1), management)).toEqual({
      ok: false,
      reason: "oversized",
    });
    const tooMany = beat({ vms: Array.from({ length: 500 }, () => VM) });
    expect(() => sign(tooMany)).toThrow(HastackError);
    expect(() => sign(tooMany)).toThrow(/more than 16384/);
  });

  it("drops a host it does not watch, and a packet from another address than the host's", () => {
    const v = verifier({ management: "10.0.0.11" });

    expect(v.verify(sign(beat({ host: "cmp9" })), management)).toEqual({ ok: false, reason: "unknown-host" });
    expect(v.verify(sign(beat()), { ...management, source: "10.0.0.99" })).toEqual({
      ok: false,
      reason: "wrong-source",
    });
    // A dual-stack socket reports the same sender as an IPv4-mapped address.
    expect(v.verify(sign(beat()), { ...management, source: "::ffff:10.0.0.11" }).ok).toBe(true);
  });

  it("drops a heartbeat of another site, and one that arrived on another network than it names", () => {
    const v = verifier();
    // Signed with this site's key for cmp1, but the body claims another site.
    const otherSite = signedBody(bodyOf(beat({ site: "other" })));

    expect(v.verify(otherSite, management)).toEqual({ ok: false, reason: "wrong-site" });
    expect(v.verify(sign(beat({ network: "storage" })), management)).toEqual({
      ok: false,
      reason: "wrong-network",
    });
  });

  it("drops replays: the same packet again, or an older sequence number of the same epoch", () => {
    const v = verifier();
    const five = sign(beat({ seq: 5 }));

    expect(v.verify(five, management).ok).toBe(true);
    expect(v.verify(five, management)).toEqual({ ok: false, reason: "replayed" });
    expect(v.verify(sign(beat({ seq: 4 })), management)).toEqual({ ok: false, reason: "replayed" });
    expect(v.verify(sign(beat({ seq: 6 })), management).ok).toBe(true);
  });

  it("hears a restarted agent at once (new epoch, sequence from 0) and drops its old epoch's packets", () => {
    const v = verifier();
    const before = sign(beat({ seq: 900 }));
    expect(v.verify(before, management).ok).toBe(true);

    const restarted = v.verify(sign(beat({ epoch: beat().epoch + 60_000, seq: 0 })), management);

    expect(restarted.ok).toBe(true);
    expect(v.verify(sign(beat({ seq: 901 })), management)).toEqual({ ok: false, reason: "old-epoch" });
  });

  it("keeps one window per host and network: the storage copy of a heartbeat is not a replay", () => {
    const v = verifier();

    expect(v.verify(sign(beat({ seq: 7 })), management).ok).toBe(true);
    expect(v.verify(sign(beat({ seq: 7, network: "storage" })), storage).ok).toBe(true);
    expect(v.verify(sign(beat({ seq: 7, host: "cmp2" })), management).ok).toBe(true);
  });

  it("does not move the window for a packet it drops later on (a forged high sequence number)", () => {
    const v = verifier();
    const forged = sign(beat({ seq: 1_000_000 }), "cmp1", "lab", "not-the-secret");

    v.verify(forged, management);

    expect(v.verify(sign(beat({ seq: 2 })), management).ok).toBe(true);
  });

  it("parses a body once and reuses it while its bytes stay the same, but reads every change", () => {
    const v = verifier();

    const first = v.verify(sign(beat({ seq: 1 })), management);
    const same = v.verify(sign(beat({ seq: 2, sentAt: 1_700_000_001_500 })), management);
    const changed = v.verify(sign(beat({ seq: 3, storageReachable: false, vms: [] })), management);
    const broken = v.verify(signedBody(bodyOf(beat({ vms: ["nope"] })), beat({ seq: 4 })), management);

    expect(first.ok && same.ok).toBe(true);
    expect(same).toEqual({ ok: true, heartbeat: beat({ seq: 2, sentAt: 1_700_000_001_500 }) });
    expect(changed).toEqual({ ok: true, heartbeat: beat({ seq: 3, storageReachable: false, vms: [] }) });
    expect(broken).toEqual({ ok: false, reason: "malformed" });
  });

  it("counts drops by reason", () => {
    const v = verifier();
    v.verify(sign(beat()), management);
    v.verify(sign(beat()), management);
    v.verify(sign(beat()), management);
    v.verify(Buffer.from("junk"), management);
    v.verify(sign(beat({ seq: 3 }), "cmp1", "lab", "wrong"), management);

    const stats = v.stats();

    expect(stats.accepted).toBe(1);
    expect(stats.drops).toMatchObject({ replayed: 2, malformed: 1, forged: 1, "unknown-host": 0 });
  });
});
