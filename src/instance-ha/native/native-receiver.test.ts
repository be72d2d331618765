// The native receiver for real: hb-recv built with the machine's cc and libcrypto, real UDP on
// loopback, packets made by the agent's own encoder. Every check of heartbeat.ts's verifier is
// met here too, counted under the same reason.
import { createSocket, type Socket } from "node:dgram";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { HastackError } from "../../util/errors.ts";
import { encodeHeartbeat, type Heartbeat, hostKey } from "../heartbeat.ts";
import { heartbeat } from "../test-world.ts";
import { buildReceiver } from "./build.ts";
import { type NativeReceiver, type NativeReceiverOptions, startNativeReceiver } from "./native-receiver.ts";

const SECRET = "native-receiver-test-secret";
let program = "";
const open: { receiver?: NativeReceiver; senders: Socket[] } = { senders: [] };

beforeAll(async () => {
  program = (await buildReceiver()).path;
}, 120_000);

afterEach(async () => {
  for (const s of open.senders) s.close();
  open.senders = [];
  await open.receiver?.close();
  open.receiver = undefined;
});

/** The shared test heartbeat (test-world.ts), with real-looking counters and one VM. */
function beat(overrides: Partial<Heartbeat> = {}): Heartbeat {
  const vms = ["0b6c1f0e-3f4e-4a51-9a43-2b1f7c0d9e11"];
  return heartbeat({
    epoch: 1_700_000_000_000,
    sentAt: 1_700_000_000_123,
    bootId: "boot-a",
    vms,
    ...overrides,
  });
}

function sign(hb: Heartbeat, secret = SECRET): Buffer {
  return encodeHeartbeat(hb, hostKey(secret, "lab", hb.host));
}

async function setup(extra: Partial<NativeReceiverOptions> = {}) {
  const receiver = await startNativeReceiver({
    program,
    binds: [
      { network: "management", address: "127.0.0.1", port: 0 },
      { network: "storage", address: "127.0.0.1", port: 0 },
    ],
    site: "lab",
    siteSecret: SECRET,
    hosts: new Map([
      ["cmp1", { management: "127.0.0.1", storage: "127.0.0.1" }],
      ["cmp2", {}],
    ]),
    tickMs: 20,
    ...extra,
  });
  open.receiver = receiver;
  const port = Object.fromEntries(receiver.addresses().map((b) => [b.network, b.port]));
  const senders = new Map<string, Socket>();
  async function sender(from: string): Promise<Socket> {
    const known = senders.get(from);
    if (known) return known;
    const s = createSocket("udp4");
    open.senders.push(s);
    await new Promise<void>((r) => s.bind({ address: from, port: 0 }, r));
    senders.set(from, s);
    return s;
  }
  async function send(packet: Buffer, network: "management" | "storage", from = "127.0.0.1") {
    const s = await sender(from);
    await new Promise<void>((r, j) => s.send(packet, port[network], "127.0.0.1", (e) => (e ? j(e) : r())));
  }
  /** Until the receiver has counted `total` packets (accepted or dropped), then its stats. */
  async function counted(total: number) {
    await vi.waitFor(
      () => {
        const st = receiver.stats();
        expect(st.accepted + Object.values(st.drops).reduce((a, b) => a + b, 0)).toBe(total);
      },
      { timeout: 5000, interval: 10 },
    );
    return receiver.stats();
  }
  return { receiver, send, counted, port };
}

describe("instance-ha/native: hb-recv and its receiver", () => {
  it("takes a signed heartbeat on each network, with its counters and an arrival time on performance.now()'s clock", async () => {
    const { receiver, send, counted, port } = await setup();
    expect(port.management).toBeGreaterThan(0);
    expect(port.storage).toBeGreaterThan(0);
    expect(port.management).not.toBe(port.storage);
    const before = performance.now();
    await send(sign(beat()), "management");
    await send(sign(beat({ network: "storage", seq: 7 })), "storage");
    const stats = await counted(2);
    expect(stats.accepted).toBe(2);
    await vi.waitFor(() => expect(receiver.hosts.get("cmp1")?.storage).toBeDefined(), { timeout: 2000 });
    const view = receiver.hosts.get("cmp1");
    expect(view?.management?.heartbeat).toEqual(beat());
    expect(view?.storage?.heartbeat).toEqual(beat({ network: "storage", seq: 7 }));
    const at = view?.management?.at ?? 0;
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(performance.now());
  });

  it("follows a body that changes, and keeps the newest counters of one that does not", async () => {
    const { receiver, send, counted } = await setup();
    await send(sign(beat({ seq: 1 })), "management");
    await send(sign(beat({ seq: 2 })), "management");
    await send(sign(beat({ seq: 3, libvirt: false, vms: [] })), "management");
    await counted(3);
    await vi.waitFor(() => expect(receiver.hosts.get("cmp1")?.management?.heartbeat.seq).toBe(3), {
      timeout: 2000,
    });
    expect(receiver.hosts.get("cmp1")?.management?.heartbeat).toEqual(
      beat({ seq: 3, libvirt: false, vms: [] }),
    );
    await send(sign(beat({ seq: 4, libvirt: false, vms: [] })), "management");
    await counted(4);
    await vi.waitFor(() => expect(receiver.hosts.get("cmp1")?.management?.heartbeat.seq).toBe(4), {
      timeout: 2000,
    });
    expect(receiver.stats().accepted).toBe(4);
  });

  it("drops and counts what the verifier drops, each under its reason, and the view never moves for them", async () => {
    const { receiver, send, counted } = await setup();
    const good = sign(beat({ seq: 5 }));
    await send(good, "management");
    await counted(1);
    await send(good, "management"); // replayed
    await send(sign(beat({ seq: 9, epoch: 1_600_000_000_000 })), "management"); // old-epoch
    await send(sign(beat({ seq: 6 }), "another-secret"), "management"); // forged
    await send(sign(beat({ host: "cmp9", seq: 1 })), "management"); // unknown-host
    await send(sign(beat({ seq: 7 })), "management", "127.0.0.2"); // wrong-source
    await send(Buffer.alloc(16 * 1024 + 1, 1), "management"); // oversized
    await send(
      Buffer.from("HAHB garbage that is long enough to be a header and a mac..........."),
      "management",
    );
    await send(sign(beat({ host: "cmp2", site: "other" })), "management"); // wrong-site, signed with cmp2's key
    await send(sign(beat({ host: "cmp2", seq: 1 })), "storage"); // wrong-network: says management
    const stats = await counted(10);
    expect(stats.accepted).toBe(1);
    expect(stats.drops).toEqual({
      oversized: 1,
      malformed: 1,
      "unknown-host": 1,
      "wrong-source": 1,
      forged: 1,
      "wrong-site": 1,
      "wrong-network": 1,
      replayed: 1,
      "old-epoch": 1,
    });
    expect(receiver.hosts.get("cmp1")?.management?.heartbeat.seq).toBe(5);
    expect(receiver.hosts.has("cmp2")).toBe(false);
    expect(receiver.hosts.has("cmp9")).toBe(false);
  });

  it("counts every packet of a refused body, not only the first, and accepts the host's next good one", async () => {
    const { receiver, send, counted } = await setup();
    for (let seq = 1; seq <= 3; seq++)
      await send(sign(beat({ host: "cmp2", seq, site: "other" })), "management");
    let stats = await counted(3);
    expect(stats.drops["wrong-site"]).toBe(3);
    expect(stats.accepted).toBe(0);
    await send(sign(beat({ host: "cmp2", seq: 4 })), "management");
    stats = await counted(4);
    expect(stats.accepted).toBe(1);
    await vi.waitFor(() => expect(receiver.hosts.get("cmp2")?.management?.heartbeat.seq).toBe(4), {
      timeout: 2000,
    });
  });

  it("refuses an address it cannot listen on, saying which, before the engine starts", async () => {
    const { port } = await setup();
    const taken = startNativeReceiver({
      program,
      binds: [{ network: "management", address: "127.0.0.1", port: port.management ?? 0 }],
      site: "lab",
      siteSecret: SECRET,
      hosts: new Map(),
    });
    await expect(taken).rejects.toThrow(HastackError);
    await expect(taken).rejects.toThrow(`Cannot receive heartbeats on 127.0.0.1:${port.management}`);
    await expect(taken).rejects.toThrow("Address already in use");
  });

  it("tells the engine when the child dies under it, and not when it is closed", async () => {
    const failures: HastackError[] = [];
    const { receiver } = await setup({ onFailure: (e) => failures.push(e) });
    process.kill(receiver.pid ?? 0, "SIGKILL");
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 3000 });
    expect(failures[0]?.code).toBe("E_HA_BIND");
    expect(failures[0]?.message).toContain("exit SIGKILL");
    await receiver.close();

    const quiet: HastackError[] = [];
    const second = await setup({ onFailure: (e) => quiet.push(e) });
    await second.receiver.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(quiet).toEqual([]);
  });
});
