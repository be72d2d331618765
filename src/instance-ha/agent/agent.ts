/**
 * @module
 * The agent's loop: every interval, one observation (never two at once) and one heartbeat per
 * network to every engine target, each copy leaving from the compute's own address on that
 * network.
 *
 * The probes run every probe_interval_ms (a multiple of ticks, the first at once); the ticks
 * between send the last observation again.
 *
 * A heartbeat goes out every interval whatever the probes do: when an observation is still
 * running at the next tick (a hung virsh, up to its timeout), the tick sends the last finished
 * observation again instead of starting a second one. A slow probe must not silence the host:
 * silence on both networks is what gets a host fenced.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { encodeHeartbeat, HEARTBEAT_NETWORKS, type Heartbeat, type HeartbeatNetwork } from "../heartbeat.ts";
import { macKey } from "../mac.ts";
import type { AgentSettings } from "./config.ts";
import { nextEpoch, readBootId } from "./epoch.ts";
import type { Observation } from "./observe.ts";

/** The two calls the agent makes of its logger (pino's signature: fields first, then the message). */
export interface AgentLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface AgentOptions {
  settings: AgentSettings;
  /** One observation; must resolve (observe.ts never throws), bounded by the probes' timeouts. */
  observe: () => Promise<Observation>;
  log: AgentLog;
  /** Wall clock, ms (the epoch and each heartbeat's sentAt). @default Date.now */
  now?: () => number;
  /** The same warning is repeated at most this often while it lasts. @default 60_000 */
  warnEveryMs?: number;
}

export interface AgentStats {
  /** Observations started, and ticks that found one still running (skipped, not queued). */
  observations: number;
  skipped: number;
  /** Heartbeat rounds (one sequence number each, sent over both networks). */
  rounds: number;
  /** Packets handed to the kernel, and sends that failed (bind or send errors). */
  sent: number;
  sendErrors: number;
}

export interface Agent {
  readonly epoch: number;
  stats(): AgentStats;
  /** Stops the loop and closes the sockets; an observation still running is dropped. */
  stop(): Promise<void>;
}

interface NetworkSocket {
  network: HeartbeatNetwork;
  socket?: Socket;
  binding?: Promise<void>;
}

/** Logs a warning when it is new or changed, then at most once per period while it lasts. */
function warnings(log: AgentLog, everyMs: number, now: () => number) {
  const last = new Map<string, { text: string; at: number }>();
  return {
    warn(key: string, text: string, fields: object = {}): void {
      const seen = last.get(key);
      if (seen && seen.text === text && now() - seen.at < everyMs) return;
      last.set(key, { text, at: now() });
      log.warn({ ...fields, problem: key }, text);
    },
    clear(key: string, message: string): void {
      if (!last.delete(key)) return;
      log.info({ problem: key }, message);
    },
  };
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { settings, log } = options;
  const now = options.now ?? Date.now;
  // Rate limiting runs on the monotonic clock: a wall clock step must not unmute or mute warnings.
  const warn = warnings(log, options.warnEveryMs ?? 60_000, () => performance.now());
  const key = macKey(settings.key);

  const { epoch, problem: epochProblem } = nextEpoch(settings.epoch_file, now());
  if (epochProblem) warn.warn("epoch", epochProblem);
  const { bootId, problem: bootProblem } = readBootId(settings.boot_id_file);
  if (bootProblem) warn.warn("boot-id", bootProblem);

  const stats: AgentStats = { observations: 0, skipped: 0, rounds: 0, sent: 0, sendErrors: 0 };
  const sockets: NetworkSocket[] = HEARTBEAT_NETWORKS.map((network) => ({ network }));
  let seq = 0;
  let last: Observation | undefined;
  let running = false;
  let stopped = false;

  /**
   * Binds a network's socket to the compute's address there. On failure (the address not up
   * yet at boot) the next tick tries again; the other network's copies go out meanwhile.
   */
  function bind(entry: NetworkSocket): Promise<void> {
    const { source } = settings.networks[entry.network];
    const socket = createSocket({ type: isIPv6(source) ? "udp6" : "udp4" });
    return new Promise((resolve) => {
      socket.once("error", (error) => {
        socket.close();
        stats.sendErrors++;
        warn.warn(
          `bind-${entry.network}`,
          `cannot bind the ${entry.network} socket to ${source}: ${error.message}`,
        );
        entry.binding = undefined;
        resolve();
      });
      socket.bind({ address: source, port: 0 }, () => {
        socket.removeAllListeners("error");
        // After the bind an error concerns one packet (an ICMP unreachable): counted, never fatal.
        socket.on("error", (error) => {
          stats.sendErrors++;
          warn.warn(`socket-${entry.network}`, `${entry.network} socket: ${error.message}`);
        });
        warn.clear(`bind-${entry.network}`, `the ${entry.network} socket is bound to ${source}`);
        if (stopped) socket.close();
        else entry.socket = socket;
        resolve();
      });
    });
  }

  function sendRound(observation: Observation): void {
    if (stopped) return;
    const round = seq;
    // 2^32 rounds is 136 years at one a second; wrapping would be taken for a replay.
    seq = seq >= 0xffff_ffff ? seq : seq + 1;
    stats.rounds++;
    const sentAt = Math.floor(now());
    for (const entry of sockets) {
      const socket = entry.socket;
      if (!socket) {
        entry.binding ??= bind(entry);
        continue;
      }
      const heartbeat: Heartbeat = {
        site: settings.site,
        host: settings.host,
        network: entry.network,
        epoch,
        seq: round,
        sentAt,
        bootId,
        novaCompute: observation.novaCompute,
        libvirt: observation.libvirt,
        storageReachable: observation.storageReachable,
        vms: observation.vms,
      };
      let packet: Buffer;
      try {
        packet = encodeHeartbeat(heartbeat, key);
      } catch (error) {
        stats.sendErrors++;
        warn.warn("encode", `cannot encode the heartbeat: ${(error as Error).message}`);
        continue;
      }
      for (const target of settings.networks[entry.network].targets) {
        socket.send(packet, target.port, target.address, (error) => {
          if (!error) {
            stats.sent++;
            return;
          }
          stats.sendErrors++;
          warn.warn(
            `send-${entry.network}-${target.address}`,
            `cannot send the ${entry.network} heartbeat to ${target.address}:${target.port}: ${error.message}`,
          );
        });
      }
    }
  }

  let previousProblems = "";
  function report(observation: Observation): void {
    const problems = observation.problems.join("; ");
    if (problems !== "") warn.warn("probes", `probe failed: ${problems}`, { probes: observation.problems });
    else if (previousProblems !== "") warn.clear("probes", "every probe passes again");
    previousProblems = problems;
  }

  let observedAt = Number.NEGATIVE_INFINITY;
  function tick(): void {
    if (stopped) return;
    if (running) {
      stats.skipped++;
      if (last) sendRound(last);
      return;
    }
    // Half a tick of slack: a timer that fires a little early still starts the observation.
    const due = observedAt + settings.probe_interval_ms - settings.interval_ms / 2;
    if (last && performance.now() < due) {
      sendRound(last);
      return;
    }
    observedAt = performance.now();
    running = true;
    stats.observations++;
    // Through a promise: an observe that throws before returning one must not escape the timer.
    Promise.resolve()
      .then(() => options.observe())
      .then(
        (observation) => {
          // Stopped meanwhile: no warning or heartbeat after "stopped".
          if (stopped) return;
          last = observation;
          report(observation);
          sendRound(observation);
        },
        (error: unknown) => warn.warn("observe", `the observation failed: ${String(error)}`),
      )
      .finally(() => {
        running = false;
      });
  }

  await Promise.all(sockets.map((entry) => (entry.binding = bind(entry))));
  const timer = setInterval(tick, settings.interval_ms);
  tick();
  log.info(
    {
      host: settings.host,
      site: settings.site,
      epoch,
      intervalMs: settings.interval_ms,
      targets: Object.fromEntries(
        HEARTBEAT_NETWORKS.map((n) => [n, settings.networks[n].targets.map((t) => `${t.address}:${t.port}`)]),
      ),
    },
    "instance-HA agent started",
  );

  return {
    epoch,
    stats: () => ({ ...stats }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await Promise.all(sockets.map((entry) => entry.binding));
      await Promise.all(
        sockets.map(
          (entry) =>
            new Promise<void>((resolve) => {
              if (!entry.socket) resolve();
              else entry.socket.close(() => resolve());
            }),
        ),
      );
      log.info({ host: settings.host, ...stats }, "instance-HA agent stopped");
    },
  };
}
