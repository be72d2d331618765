/**
 * @module
 * What the engine knows of one compute at one evaluation (heartbeats per network, the BMC's
 * power state, the engine's own actions), and what one evaluation makes of it: a condition.
 * The state machine (host-state.ts) debounces conditions into phases.
 */
import type { Seen } from "./receiver.ts";

/**
 * What one evaluation makes of the signals.
 * - `dead`: both networks silent, power off or unknown (a BMC that died with its host says nothing).
 * - `unresponsive`: both networks silent, power on: hung, or cut off both networks. Its VMs can
 *   reach neither users nor disks, and a power fence settles which it was.
 * - `storage-lost`: management alive, but the storage network silent or the agent's probe of
 *   the storage addresses failing: the VMs have lost their disks.
 * - `management-lost`: storage alive and reachable, management silent. The VMs may still be
 *   writing to their disks: evacuating would run them twice. Alert only.
 * - `degraded`: both networks alive, nova-compute or libvirtd down. The guests run on (qemu does
 *   not need libvirtd); the agent's process supervision is the cure, not an evacuation.
 */
export type Condition = "ok" | "degraded" | "dead" | "unresponsive" | "storage-lost" | "management-lost";

export type PowerState = "on" | "off" | "unknown";

/** What the engine did about a host, fed back so the machine follows it. */
export type ActionEvent =
  | { kind: "fence-started" }
  | { kind: "fence-confirmed"; method: "power" | "storage" }
  | { kind: "fence-failed"; detail: string }
  | { kind: "evacuation-started" }
  | { kind: "evacuation-finished"; failed: number }
  | { kind: "operator-enable" }
  | { kind: "operator-disable" };

export interface Signals {
  management?: Seen;
  storage?: Seen;
  /** The BMC's last answer; `unknown` when it did not answer (or was not asked yet). */
  power: PowerState;
  events?: readonly ActionEvent[];
}

const FENCE_WORTHY: ReadonlySet<Condition> = new Set(["dead", "unresponsive", "storage-lost"]);

/** Dead, unresponsive or without storage: a condition that calls for a fence and an evacuation. */
export function isFenceWorthy(condition: Condition): boolean {
  return FENCE_WORTHY.has(condition);
}

/** Reads one evaluation's signals: the condition, and the words that explain it. */
export function classify(
  signals: Signals,
  now: number,
  watchingSince: number,
  silenceMs: number,
): { condition: Condition; why: string } {
  // Before the first heartbeat, silence counts from when the engine started watching.
  const silentFor = (seen: Seen | undefined) => now - (seen?.at ?? watchingSince);
  const management = silentFor(signals.management) <= silenceMs;
  const storage = silentFor(signals.storage) <= silenceMs;
  const newest = newestHeartbeat(signals);
  if (!management && !storage) {
    const silent = `no heartbeat for ${Math.round(silentFor(newest) / 100) / 10} s on either network`;
    if (signals.power === "on") return { condition: "unresponsive", why: `${silent}, power on` };
    return { condition: "dead", why: `${silent}, power ${signals.power}` };
  }
  if (!storage) return { condition: "storage-lost", why: "storage network silent, management alive" };
  if (newest && !newest.heartbeat.storageReachable) {
    return { condition: "storage-lost", why: "the agent cannot reach the storage addresses" };
  }
  if (!management) {
    return {
      condition: "management-lost",
      why: "management network silent, storage alive: the VMs may still write",
    };
  }
  const down = [
    ...(newest?.heartbeat.novaCompute === false ? ["nova-compute"] : []),
    ...(newest?.heartbeat.libvirt === false ? ["libvirtd"] : []),
  ];
  if (down.length > 0) return { condition: "degraded", why: `${down.join(" and ")} down, guests still run` };
  return { condition: "ok", why: "both networks alive" };
}

/** The fresher of the two heartbeats: the agent's latest word on what it sees. */
export function newestHeartbeat(signals: Signals): Seen | undefined {
  const { management, storage } = signals;
  if (!management || !storage) return management ?? storage;
  return storage.at > management.at ? storage : management;
}
