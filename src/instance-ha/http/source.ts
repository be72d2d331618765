/**
 * @module
 * What the API and the scrape read of a running engine, at the moment they are asked: the
 * engine's states, the receiver's view, the verifier's counts. An interface, so the daemon wires
 * the real ones and the tests a real engine and receiver, with no change to either.
 */
import { HEARTBEAT_NETWORKS, type HeartbeatNetwork, type VerifierStats } from "../heartbeat.ts";
import type { Condition, HostState, Phase, PowerState } from "../host-state.ts";
import type { HostView } from "../receiver.ts";

export interface HaSource {
  states(): ReadonlyMap<string, HostState>;
  /** The receiver's view (Receiver.hosts). */
  heartbeats(): ReadonlyMap<string, HostView>;
  /** Monotonic ms: the clock of the states' `since` and the heartbeats' `at` (performance.now). */
  now(): number;
  /** @default new Date() */
  wall?: () => Date;
  verifier?: () => VerifierStats;
  /** The BMC's last power reading for a host in trouble, where the daemon can tell it. */
  power?: (host: string) => PowerState | undefined;
  /** This engine is the one acting (its node holds the engine's resource); a standby only listens. */
  leader(): boolean;
  dryRun: boolean;
}

export interface HeartbeatReport {
  ageSeconds: number;
  bootId: string;
  seq: number;
  /** What the agent saw when it sent it. */
  novaCompute: boolean;
  libvirt: boolean;
  storageReachable: boolean;
  vms: number;
}

export interface HostReport {
  host: string;
  /** Absent for a host heard but not (yet) evaluated: a standby's engine does not evaluate. */
  phase?: Phase;
  condition?: Condition;
  /** When it entered the phase, wall clock. */
  since?: string;
  inPhaseSeconds?: number;
  heartbeats: Partial<Record<HeartbeatNetwork, HeartbeatReport>>;
  power?: PowerState;
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

function heartbeatsOf(view: HostView | undefined, now: number): HostReport["heartbeats"] {
  const out: HostReport["heartbeats"] = {};
  for (const network of HEARTBEAT_NETWORKS) {
    const seen = view?.[network];
    if (!seen) continue;
    const h = seen.heartbeat;
    out[network] = {
      ageSeconds: seconds(now - seen.at),
      bootId: h.bootId,
      seq: h.seq,
      novaCompute: h.novaCompute,
      libvirt: h.libvirt,
      storageReachable: h.storageReachable,
      vms: h.vms.length,
    };
  }
  return out;
}

/** Every host the engine evaluates or the receiver heard, sorted by name. */
export function hostReports(source: HaSource): HostReport[] {
  const states = source.states();
  const views = source.heartbeats();
  const now = source.now();
  const wall = (source.wall?.() ?? new Date()).getTime();
  const names = [...new Set([...states.keys(), ...views.keys()])].sort();
  return names.map((host) => {
    const s = states.get(host);
    const power = source.power?.(host);
    return {
      host,
      ...(s
        ? {
            phase: s.phase,
            condition: s.condition,
            since: new Date(wall - (now - s.since)).toISOString(),
            inPhaseSeconds: seconds(now - s.since),
          }
        : {}),
      heartbeats: heartbeatsOf(views.get(host), now),
      ...(power === undefined ? {} : { power }),
    };
  });
}
