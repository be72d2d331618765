import { createSocket, type Socket } from "node:dgram";
import { expect, vi } from "vitest";
import type { QuorumVerdict } from "../hostkit/quorum.ts";
import { createEngine, type Engine, type EngineHistory, type EngineSettings } from "./engine.ts";
import { createVerifier, encodeHeartbeat, type HeartbeatNetwork, hostKey } from "./heartbeat.ts";
import { type Receiver, startReceiver } from "./receiver.ts";
import type { FenceStep, RespondReport } from "./respond.ts";
import type { PowerState } from "./signals.ts";
import type { HaEvent, HostSnapshot } from "./store-rows.ts";

/**
 * For engine tests: the engine with the REAL receiver on 127.0.0.1 and REAL signed heartbeat
 * packets over UDP, on the test's clock; the fence, Nova, the BMC's power read, the control-plane
 * view and corosync's quorum are doubles (see engine.test.ts for where the real ones are proven).
 */
const SECRET = "engine-test-secret";
export const HOSTS = ["cmp1", "cmp2", "cmp3", "cmp4"];
export const BOTH: HeartbeatNetwork[] = ["management", "storage"];
const UP = { novaApi: true, novaScheduler: true, novaConductor: true, placement: true, database: true };
export const POWER_FENCE: FenceStep = {
  fence: { ok: true, method: "power", detail: "power off confirmed", ms: 300, attempts: [] },
  evacuable: true,
  detail: "cmp fenced: power off confirmed",
  timeline: [],
};

/** A fence that was not confirmed: the BMC never answered. */
export const FAILED_FENCE: FenceStep = {
  fence: { ok: false, detail: "Cannot fence cmp1: BMC silent", ms: 6000, attempts: [] },
  evacuable: false,
  detail: "Cannot fence cmp1: BMC silent",
  timeline: [],
};

export function report(host: string): RespondReport {
  return {
    host,
    outcome: "evacuated",
    plan: { placements: [{ vm: "a", target: "cmp2" }], unplaced: [] },
    evacuation: { host, servers: [], failed: 0, warnings: [], seconds: 1 },
    timeline: [],
    seconds: 1,
  };
}

interface Options {
  settings?: Partial<EngineSettings>;
  quorate?: QuorumVerdict;
  fence?: (host: string) => Promise<FenceStep>;
  evacuate?: (host: string) => Promise<RespondReport>;
  snapshots?: HostSnapshot[];
  power?: PowerState;
  /** Wraps the history the engine writes to (alerting-history.ts, a metrics collector). */
  history?: (inner: EngineHistory) => EngineHistory;
  /** Nova's word on a held-disabled host: enabled by the operator and up. @default false */
  operatorEnabled?: (host: string) => boolean;
}

const open: { receiver?: Receiver; sender?: Socket; engine?: Engine } = {};
/** After each test: the engine stopped, the sockets closed. */
export async function closeWorld(): Promise<void> {
  await open.engine?.stop();
  open.sender?.close();
  await open.receiver?.close();
  Object.assign(open, { receiver: undefined, sender: undefined, engine: undefined });
}

export async function world(o: Options = {}) {
  let now = 0;
  let accepted = 0;
  const verifier = createVerifier({
    site: "lab",
    siteSecret: SECRET,
    hosts: new Map(HOSTS.map((h) => [h, { management: "127.0.0.1", storage: "127.0.0.1" }])),
  });
  const receiver = await startReceiver({
    binds: BOTH.map((network) => ({ network, address: "127.0.0.1", port: 0 })),
    verifier,
    clock: () => now,
    onVerdict: (v) => {
      if (v.ok) accepted++;
    },
  });
  const sender = createSocket("udp4");
  Object.assign(open, { receiver, sender });
  const port = Object.fromEntries(receiver.addresses().map((b) => [b.network, b.port]));
  let seq = 0;
  // A host that was powered off and started again comes back with another boot id.
  let boot = "boot-1";

  /** One heartbeat round from each host over the given networks, waited for until the receiver took it. */
  async function beat(hosts: readonly string[], networks: readonly HeartbeatNetwork[] = BOTH): Promise<void> {
    seq++;
    const before = accepted;
    for (const host of hosts)
      for (const network of networks) {
        const packet = encodeHeartbeat(
          {
            site: "lab",
            host,
            network,
            epoch: 1,
            seq,
            sentAt: 1_700_000_000_000 + now,
            bootId: boot,
            novaCompute: true,
            libvirt: true,
            storageReachable: true,
            vms: [],
          },
          hostKey(SECRET, "lab", host),
        );
        await new Promise<void>((resolve, reject) =>
          sender.send(packet, port[network], "127.0.0.1", (e) => (e ? reject(e) : resolve())),
        );
      }
    const expected = before + hosts.length * networks.length;
    await vi.waitFor(() => expect(accepted).toBe(expected), { timeout: 2000, interval: 2 });
  }

  const calls = {
    fence: [] as { host: string; at: number }[],
    evacuate: [] as string[],
    reenable: [] as string[],
    operatorChecks: [] as string[],
    quorate: 0,
  };
  const recorded: HaEvent[] = [];
  const upserted: HostSnapshot[] = [];
  const history: EngineHistory = {
    record: async (e) => recorded.push(e),
    upsertHost: async (s) => {
      upserted.push(s);
    },
    hosts: async () => o.snapshots ?? [],
  };
  const engine = createEngine(
    {
      computes: () => HOSTS,
      view: () => receiver.hosts,
      power: async () => o.power ?? "off",
      controlPlane: async () => UP,
      quorate: async () => {
        calls.quorate++;
        return o.quorate ?? { quorate: true, reason: "ctl1 is quorate (3 of 3 votes, 2 needed)" };
      },
      respond: {
        fence: async (host) => {
          calls.fence.push({ host, at: now });
          return o.fence ? o.fence(host) : POWER_FENCE;
        },
        evacuate: async (host) => {
          calls.evacuate.push(host);
          return o.evacuate ? o.evacuate(host) : report(host);
        },
      },
      reenable: async (host) => {
        calls.reenable.push(host);
      },
      operatorEnabled: async (host) => {
        calls.operatorChecks.push(host);
        return o.operatorEnabled?.(host) ?? false;
      },
      history: o.history ? o.history(history) : history,
      log: { info: () => {}, warn: () => {} },
      wall: () => new Date(1_700_000_000_000 + now),
    },
    { ...o.settings },
  );
  open.engine = engine;

  /**
   * `seconds` evaluations one second apart, each after a heartbeat round from `alive`; each waits
   * for the actions it started unless `settle` is false (an action that hangs).
   */
  async function run(
    seconds: number,
    alive: readonly string[],
    networks?: readonly HeartbeatNetwork[],
    settle = true,
  ) {
    for (let i = 0; i < seconds; i++) {
      now += 1000;
      if (alive.length > 0) await beat(alive, networks);
      await engine.tick(now);
      if (settle) await engine.idle();
    }
  }
  const phase = (host: string) => engine.states().get(host)?.phase;
  const gates = (host: string) => recorded.filter((e) => e.host === host && e.kind === "gate");
  const reboot = () => {
    boot = "boot-2";
  };
  return {
    engine,
    receiver,
    verifier,
    run,
    beat,
    calls,
    recorded,
    upserted,
    phase,
    gates,
    reboot,
    now: () => now,
  };
}
