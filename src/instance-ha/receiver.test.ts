import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type Arrival,
  createVerifier,
  encodeHeartbeat,
  type Heartbeat,
  hostKey,
  type Verdict,
} from "./heartbeat.ts";
import { type Receiver, startReceiver } from "./receiver.ts";

const SECRET = "receiver-test-secret";

function beat(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    site: "lab",
    host: "cmp1",
    network: "management",
    epoch: 1_700_000_000_000,
    seq: 1,
    sentAt: 1_700_000_000_000,
    bootId: "boot-a",
    novaCompute: true,
    libvirt: true,
    storageReachable: true,
    vms: [],
    ...overrides,
  };
}

function sign(hb: Heartbeat, secret = SECRET): Buffer {
  return encodeHeartbeat(hb, hostKey(secret, "lab", hb.host));
}

const open: { receiver?: Receiver; sender?: Socket } = {};

afterEach(async () => {
  open.sender?.close();
  await open.receiver?.close();
  open.sender = undefined;
  open.receiver = undefined;
});

/** A receiver on two loopback sockets (management, storage) and a sender; verdicts in arrival order. */
async function setup() {
  let now = 1000;
  const verdicts: { verdict: Verdict; arrival: Arrival }[] = [];
  const receiver = await startReceiver({
    binds: [
      { network: "management", address: "127.0.0.1", port: 0 },
      { network: "storage", address: "127.0.0.1", port: 0 },
    ],
    verifier: createVerifier({
      site: "lab",
      siteSecret: SECRET,
      hosts: new Map([["cmp1", { management: "127.0.0.1", storage: "127.0.0.1" }]]),
    }),
    clock: () => now,
    onVerdict: (verdict, arrival) => verdicts.push({ verdict, arrival }),
  });
  open.receiver = receiver;
  const sender = createSocket("udp4");
  open.sender = sender;
  const port = Object.fromEntries(receiver.addresses().map((b) => [b.network, b.port])) as Record<
    "management" | "storage",
    number
  >;

  async function send(packet: Buffer, network: "management" | "storage"): Promise<Verdict> {
    const before = verdicts.length;
    await new Promise<void>((resolve, reject) =>
      sender.send(packet, port[network], "127.0.0.1", (error) => (error ? reject(error) : resolve())),
    );
    await vi.waitFor(() => expect(verdicts.length).toBeGreaterThan(before), { timeout: 2000, interval: 5 });
    return (verdicts[before] as { verdict: Verdict }).verdict;
  }

  return {
    receiver,
    send,
    setNow(ms: number) {
      now = ms;
    },
  };
}

describe("instance-ha/receiver (real UDP on 127.0.0.1)", () => {
  it("keeps the last verified heartbeat per network, stamped with the monotonic clock", async () => {
    const { receiver, send, setNow } = await setup();

    setNow(5000);
    expect((await send(sign(beat()), "management")).ok).toBe(true);
    setNow(5400);
    expect((await send(sign(beat({ network: "storage", storageReachable: false })), "storage")).ok).toBe(
      true,
    );

    const view = receiver.hosts.get("cmp1");
    expect(view?.management).toEqual({ heartbeat: beat(), at: 5000 });
    expect(view?.storage?.at).toBe(5400);
    expect(view?.storage?.heartbeat.storageReachable).toBe(false);
  });

  it("drops forged, replayed and misrouted packets without touching the view, and counts them", async () => {
    const { receiver, send, setNow } = await setup();
    setNow(2000);
    await send(sign(beat({ seq: 10 })), "management");
    setNow(3000);

    const forged = await send(sign(beat({ seq: 11, storageReachable: false }), "stolen-guess"), "management");
    const replayed = await send(sign(beat({ seq: 10 })), "management");
    const misrouted = await send(sign(beat({ seq: 12, network: "storage" })), "management");
    const junk = await send(Buffer.from("hello"), "storage");

    expect([forged, replayed, misrouted, junk]).toEqual([
      { ok: false, reason: "forged" },
      { ok: false, reason: "replayed" },
      { ok: false, reason: "wrong-network" },
      { ok: false, reason: "malformed" },
    ]);
    expect(receiver.hosts.get("cmp1")?.management).toEqual({ heartbeat: beat({ seq: 10 }), at: 2000 });
    expect(receiver.hosts.get("cmp1")?.storage).toBeUndefined();
  });

  it("hears a restarted agent at once (a new epoch)", async () => {
    const { receiver, send, setNow } = await setup();
    await send(sign(beat({ seq: 500 })), "management");
    setNow(9000);

    const verdict = await send(
      sign(beat({ epoch: beat().epoch + 30_000, seq: 0, bootId: "boot-b" })),
      "management",
    );

    expect(verdict.ok).toBe(true);
    expect(receiver.hosts.get("cmp1")?.management?.heartbeat.bootId).toBe("boot-b");
    expect(receiver.hosts.get("cmp1")?.management?.at).toBe(9000);
  });

  it("says which address it cannot bind", async () => {
    const { receiver } = await setup();
    const taken = receiver.addresses()[0]?.port as number;
    const verifier = createVerifier({ site: "lab", siteSecret: SECRET, hosts: new Map() });

    const inUse = startReceiver({
      binds: [
        { network: "storage", address: "127.0.0.1", port: 0 },
        { network: "management", address: "127.0.0.1", port: taken },
      ],
      verifier,
    });

    await expect(inUse).rejects.toMatchObject({ code: "E_HA_BIND" });
    await expect(inUse).rejects.toThrow(`Cannot listen for management heartbeats on 127.0.0.1:${taken}`);
    // 192.0.2.1 (TEST-NET-1) is nobody's address: EADDRNOTAVAIL.
    await expect(
      startReceiver({ binds: [{ network: "storage", address: "192.0.2.1", port: 0 }], verifier }),
    ).rejects.toMatchObject({ code: "E_HA_BIND" });
  });
});
