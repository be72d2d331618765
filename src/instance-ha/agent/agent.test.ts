import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Arrival, createVerifier, hostKey, type Verdict } from "../heartbeat.ts";
import { type Receiver, startReceiver } from "../receiver.ts";
import { type Agent, type AgentLog, startAgent } from "./agent.ts";
import { AgentConfig, type AgentSettings } from "./config.ts";
import type { Observation } from "./observe.ts";

const SECRET = "agent-test-site-secret";
const VM = "0b6f1a52-6c8e-4c1e-9a57-1f0d3c2b4a10";

const open: { agents: Agent[]; receiver?: Receiver; sockets: Socket[]; dirs: string[] } = {
  agents: [],
  sockets: [],
  dirs: [],
};

afterEach(async () => {
  await Promise.all(open.agents.map((a) => a.stop()));
  for (const s of open.sockets) s.close();
  await open.receiver?.close();
  for (const d of open.dirs) rmSync(d, { recursive: true, force: true });
  open.agents = [];
  open.sockets = [];
  open.dirs = [];
  open.receiver = undefined;
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "hastack-agent-"));
  open.dirs.push(dir);
  return dir;
}

function observation(overrides: Partial<Observation> = {}): Observation {
  return { novaCompute: true, libvirt: true, storageReachable: true, vms: [VM], problems: [], ...overrides };
}

/** Two loopback sockets standing for the engine's management and storage addresses. */
async function engine(hosts: string[], sources = { management: "127.0.0.1", storage: "127.0.0.1" }) {
  const verdicts: { verdict: Verdict; arrival: Arrival }[] = [];
  const verifier = createVerifier({
    site: "lab",
    siteSecret: SECRET,
    hosts: new Map(hosts.map((h) => [h, sources])),
  });
  const receiver = await startReceiver({
    binds: [
      { network: "management", address: "127.0.0.1", port: 0 },
      { network: "storage", address: "127.0.0.1", port: 0 },
    ],
    verifier,
    onVerdict: (verdict, arrival) => verdicts.push({ verdict, arrival }),
  });
  open.receiver = receiver;
  const port = Object.fromEntries(receiver.addresses().map((b) => [b.network, b.port])) as Record<
    "management" | "storage",
    number
  >;
  return { receiver, verifier, verdicts, port };
}

function settings(
  host: string,
  port: { management: number; storage: number },
  overrides: Partial<AgentSettings> = {},
): AgentSettings {
  const dir = scratch();
  writeFileSync(join(dir, "boot_id"), "5a1e3c0d-boot-id\n");
  const config = AgentConfig.parse({
    site: "lab",
    host,
    epoch_file: join(dir, "epoch"),
    boot_id_file: join(dir, "boot_id"),
    interval_ms: 100,
    // A probe every tick unless a test says otherwise: these tests are about the ticks.
    probe_interval_ms: 100,
    networks: {
      management: { source: "127.0.0.1", targets: [{ address: "127.0.0.1", port: port.management }] },
      storage: { source: "127.0.0.1", targets: [{ address: "127.0.0.1", port: port.storage }] },
    },
  });
  return { ...config, key: hostKey(SECRET, "lab", host), ...overrides };
}

/** Messages by level, and every call whole (fields too) as JSON, to check what is never logged. */
function quietLog(): AgentLog & { warnings: string[]; infos: string[]; lines: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  const lines: string[] = [];
  return {
    warnings,
    infos,
    lines,
    warn: (fields, message) => {
      warnings.push(message);
      lines.push(JSON.stringify({ ...fields, message }));
    },
    info: (fields, message) => {
      infos.push(message);
      lines.push(JSON.stringify({ ...fields, message }));
    },
  };
}

async function agent(s: AgentSettings, observe: () => Promise<Observation>, log = quietLog()) {
  const a = await startAgent({ settings: s, observe, log });
  open.agents.push(a);
  return a;
}

describe("instance-ha/agent (real UDP to a real receiver on 127.0.0.1)", () => {
  it("is heard on both networks with its host, its observation and growing sequence numbers", async () => {
    const { receiver, verdicts, port } = await engine(["cmp1"]);
    const a = await agent(settings("cmp1", port), async () => observation({ storageReachable: false }));

    await vi.waitFor(
      () => {
        const view = receiver.hosts.get("cmp1");
        expect(view?.management?.heartbeat.seq).toBeGreaterThanOrEqual(2);
        expect(view?.storage?.heartbeat.seq).toBeGreaterThanOrEqual(2);
      },
      { timeout: 5000, interval: 20 },
    );

    const view = receiver.hosts.get("cmp1");
    expect(view?.management?.heartbeat).toMatchObject({
      site: "lab",
      host: "cmp1",
      network: "management",
      epoch: a.epoch,
      bootId: "5a1e3c0d-boot-id",
      novaCompute: true,
      libvirt: true,
      storageReachable: false,
      vms: [VM],
    });
    expect(view?.storage?.heartbeat.network).toBe("storage");
    expect(verdicts.every(({ verdict }) => verdict.ok)).toBe(true);
    // Both copies of a round carry the same sequence number, and rounds count up from 0.
    const seqs = verdicts
      .filter((v) => v.arrival.network === "management")
      .map((v) => (v.verdict as { heartbeat: { seq: number } }).heartbeat.seq);
    expect(seqs.slice(0, 3)).toEqual([0, 1, 2]);
  });

  it("each copy leaves from the compute's address on its network (the receiver checks the source)", async () => {
    // Linux answers for all of 127.0.0.0/8: 127.0.0.2 stands for the compute's storage address.
    const { receiver, verifier, port } = await engine(["cmp1"], {
      management: "127.0.0.1",
      storage: "127.0.0.2",
    });
    const s = settings("cmp1", port);
    s.networks.storage.source = "127.0.0.2";
    await agent(s, async () => observation());
    await vi.waitFor(() => expect(receiver.hosts.get("cmp1")?.storage).toBeDefined(), {
      timeout: 5000,
      interval: 20,
    });
    expect(verifier.stats().drops["wrong-source"]).toBe(0);
  });

  it("a copy sent from the wrong address is dropped, and the other network's copies go on", async () => {
    const { receiver, verifier, port } = await engine(["cmp1"], {
      management: "127.0.0.1",
      storage: "127.0.0.2",
    });
    await agent(settings("cmp1", port), async () => observation()); // storage from 127.0.0.1
    await vi.waitFor(() => expect(verifier.stats().drops["wrong-source"]).toBeGreaterThanOrEqual(2), {
      timeout: 5000,
      interval: 20,
    });
    expect(receiver.hosts.get("cmp1")?.management).toBeDefined();
    expect(receiver.hosts.get("cmp1")?.storage).toBeUndefined();
  });

  it("a source address it cannot bind is warned about and retried; the other network is heard meanwhile", async () => {
    const { receiver, port } = await engine(["cmp1"]);
    const log = quietLog();
    const s = settings("cmp1", port);
    s.networks.storage.source = "192.0.2.1"; // TEST-NET-1: nobody's address, EADDRNOTAVAIL
    const a = await agent(s, async () => observation(), log);
    await vi.waitFor(() => expect(a.stats().sendErrors).toBeGreaterThanOrEqual(3), {
      timeout: 5000,
      interval: 20,
    });
    expect(receiver.hosts.get("cmp1")?.management).toBeDefined();
    expect(receiver.hosts.get("cmp1")?.storage).toBeUndefined();
    // Retried every tick, warned about once.
    expect(log.warnings).toEqual([
      expect.stringMatching(/^cannot bind the storage socket to 192\.0\.2\.1: .*EADDRNOTAVAIL/),
    ]);
  });

  it("signed with another host's key: dropped as forged and counted, the view untouched", async () => {
    const { receiver, verifier, port } = await engine(["cmp1", "cmp2"]);
    // cmp2's agent holding cmp1's key: what a stolen key file lets an attacker try.
    await agent(settings("cmp2", port, { key: hostKey(SECRET, "lab", "cmp1") }), async () => observation());

    await vi.waitFor(() => expect(verifier.stats().drops.forged).toBeGreaterThanOrEqual(4), {
      timeout: 5000,
      interval: 20,
    });
    expect(verifier.stats().accepted).toBe(0);
    expect(receiver.hosts.size).toBe(0);
  });

  it("a recorded packet sent again is dropped as replayed", async () => {
    const { verifier, verdicts, port } = await engine(["cmp1"]);
    // A third listener on the management side records what the agent sends.
    const recorder = createSocket("udp4");
    open.sockets.push(recorder);
    const recorded: Buffer[] = [];
    recorder.on("message", (packet) => recorded.push(packet));
    await new Promise<void>((resolve) => recorder.bind(0, "127.0.0.1", () => resolve()));
    const s = settings("cmp1", port);
    s.networks.management.targets.push({ address: "127.0.0.1", port: recorder.address().port });
    const a = await agent(s, async () => observation());

    await vi.waitFor(() => expect(recorded.length).toBeGreaterThanOrEqual(2), {
      timeout: 5000,
      interval: 20,
    });
    await a.stop();
    const before = verdicts.length;
    const attacker = createSocket("udp4");
    open.sockets.push(attacker);
    await new Promise<void>((resolve, reject) =>
      attacker.send(recorded[0] as Buffer, port.management, "127.0.0.1", (e) => (e ? reject(e) : resolve())),
    );

    await vi.waitFor(() => expect(verdicts.length).toBe(before + 1), { timeout: 2000, interval: 5 });
    expect(verdicts[before]?.verdict).toEqual({ ok: false, reason: "replayed" });
    expect(verifier.stats().drops.replayed).toBe(1);
  });

  it("skips a tick while an observation still runs (never two at once, none queued), and keeps sending", async () => {
    const { receiver, port } = await engine(["cmp1"]);
    let calls = 0;
    let release: (o: Observation) => void = () => {};
    const observe = () => {
      calls++;
      return new Promise<Observation>((resolve) => {
        release = resolve;
      });
    };
    const a = await agent(settings("cmp1", port), observe);

    // Several intervals (100 ms each) with the first observation hanging.
    await vi.waitFor(() => expect(a.stats().skipped).toBeGreaterThanOrEqual(3), {
      timeout: 5000,
      interval: 20,
    });
    expect(calls).toBe(1);
    // Nothing to say before the first observation: no heartbeat yet.
    expect(receiver.hosts.get("cmp1")).toBeUndefined();

    release(observation());
    await vi.waitFor(() => expect(receiver.hosts.get("cmp1")?.storage).toBeDefined(), {
      timeout: 5000,
      interval: 10,
    });
    // The skipped ticks were not queued: one new observation at the next tick, not one per skip.
    await vi.waitFor(() => expect(calls).toBe(2), { timeout: 5000, interval: 10 });
    const seqAfterRelease = receiver.hosts.get("cmp1")?.management?.heartbeat.seq ?? -1;
    // The second observation hangs too: heartbeats go on with the last finished observation.
    await vi.waitFor(
      () =>
        expect(receiver.hosts.get("cmp1")?.management?.heartbeat.seq).toBeGreaterThan(seqAfterRelease + 2),
      { timeout: 5000, interval: 20 },
    );
    expect(calls).toBe(2);
  });

  it("probes every probe_interval_ms while heartbeats go every interval, carrying the last observation", async () => {
    const { receiver, port } = await engine(["cmp1"]);
    let calls = 0;
    const a = await agent(settings("cmp1", port, { probe_interval_ms: 500 }), async () => {
      calls++;
      return observation({ vms: [`00000000-0000-4000-8000-00000000000${calls}`] });
    });
    await vi.waitFor(() => expect(a.stats().rounds).toBeGreaterThanOrEqual(12), {
      timeout: 5000,
      interval: 20,
    });
    // 12 rounds of 100 ms: the first observation at once, then one per 500 ms (timers may lag).
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(4);
    expect(a.stats().observations).toBe(calls);
    expect(receiver.hosts.get("cmp1")?.management?.heartbeat.vms).toEqual([
      `00000000-0000-4000-8000-00000000000${calls}`,
    ]);
  });

  it("an observe that throws is warned about, and the next tick observes again", async () => {
    const { port } = await engine(["cmp1"]);
    const log = quietLog();
    let calls = 0;
    const a = await agent(
      settings("cmp1", port),
      () => {
        calls++;
        throw new Error("boom");
      },
      log,
    );
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(3), { timeout: 5000, interval: 20 });
    expect(log.warnings).toEqual(["the observation failed: Error: boom"]);
    expect(a.stats().rounds).toBe(0);
  });

  it("raises its epoch past the last one when the clock went back, and restarts its sequence", async () => {
    const { receiver, port } = await engine(["cmp1"]);
    const s = settings("cmp1", port);
    const future = Date.now() + 3_600_000;
    writeFileSync(s.epoch_file, `${future}\n`);

    const a = await agent(s, async () => observation());

    expect(a.epoch).toBe(future + 1);
    expect(readFileSync(s.epoch_file, "utf8").trim()).toBe(String(future + 1));
    await vi.waitFor(() => expect(receiver.hosts.get("cmp1")?.management?.heartbeat.epoch).toBe(future + 1), {
      timeout: 5000,
      interval: 20,
    });
  });

  it("warns about failing probes once while they last, not every second, and says when they pass again", async () => {
    const { port } = await engine(["cmp1"]);
    const log = quietLog();
    let failing = true;
    const a = await agent(
      settings("cmp1", port),
      async () =>
        observation(failing ? { libvirt: false, problems: ["virsh list: timed out after 3000 ms"] } : {}),
      log,
    );
    await vi.waitFor(() => expect(a.stats().observations).toBeGreaterThanOrEqual(5), {
      timeout: 5000,
      interval: 20,
    });
    expect(log.warnings).toEqual(["probe failed: virsh list: timed out after 3000 ms"]);

    failing = false;
    await vi.waitFor(() => expect(log.infos).toContain("every probe passes again"), {
      timeout: 5000,
      interval: 20,
    });
    await a.stop();
    expect(log.infos).toEqual([
      "instance-HA agent started",
      "every probe passes again",
      "instance-HA agent stopped",
    ]);
    const logged = log.lines.join("\n");
    expect(logged).not.toContain(hostKey(SECRET, "lab", "cmp1").toString("hex"));
    expect(logged).not.toContain(SECRET);
  });
});
