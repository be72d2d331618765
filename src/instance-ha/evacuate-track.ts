/**
 * @module
 * One server's evacuation as Nova shows it: whether Nova would take the request now, the request
 * itself (recorded in the ledger once accepted), and following the rebuild to where the server
 * settles, its ERROR, or the deadline (evacuate.ts drives these for each server of a host).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Nova, Server } from "../openstack/nova.ts";
import type { LedgerUpdate } from "./evacuation-ledger.ts";

/** What following one server needs of the host's evacuation. */
export interface Tracker {
  /** The failed host. */
  host: string;
  nova: Nova;
  settings: { poll_ms: number; evacuation_timeout_s: number };
  /** The ledger's write, or nothing without a ledger. */
  record: (serverId: string, update: LedgerUpdate) => Promise<void>;
}

const EVACUABLE = new Set(["active", "stopped", "error"]);

/** Where the server runs now if it left the failed host and is settled there; else undefined. */
export function arrived(run: Tracker, now: Server, before: Server): string | undefined {
  if (now.taskState !== null || now.host === null || now.host === run.host) return undefined;
  const wanted = before.vmState === "stopped" ? "stopped" : "active";
  return now.vmState === wanted || now.vmState === "active" ? now.host : undefined;
}

/** Why Nova would refuse to evacuate it now (its API checks the same), or undefined. */
export function whyNot(run: Tracker, server: Server): string | undefined {
  if (!EVACUABLE.has(server.vmState))
    return `vm_state ${server.vmState}: Nova evacuates only active, stopped or error servers`;
  if (server.host !== run.host)
    return `on ${server.host ?? "no host"} (${server.vmState}), not on ${run.host}`;
  if (server.taskState !== null)
    return server.taskState.startsWith("rebuild")
      ? `being evacuated or rebuilt already (task_state ${server.taskState})`
      : `task_state ${server.taskState} pending: Nova refuses until its state is reset`;
  return undefined;
}

export type Outcome = { to?: string; deleted?: boolean; reason: string };

export async function requestAndTrack(
  run: Tracker,
  before: Server,
  target: string | undefined,
  attempt: number,
): Promise<Outcome> {
  try {
    await run.nova.evacuate(before.id, run.host, target);
  } catch (cause) {
    // A lost answer may hide an accepted request, and a refusal may be another engine's request
    // winning: either way, a rebuild under way now is followed to its end, not requested twice.
    const now = await run.nova.server(before.id).catch(() => undefined);
    if (!now?.taskState?.startsWith("rebuild")) return { reason: words(cause) };
  }
  await run.record(before.id, { status: "requested", attempts: attempt, ...(target ? { to: target } : {}) });
  return track(run, before);
}

/** Follows a rebuild under way to where the server settles, its ERROR, or the deadline. */
export async function track(run: Tracker, before: Server): Promise<Outcome> {
  const deadline = performance.now() + run.settings.evacuation_timeout_s * 1000;
  let last = "not read yet";
  for (;;) {
    await sleep(run.settings.poll_ms);
    let now: Server | undefined;
    let read = true;
    try {
      now = await run.nova.server(before.id);
    } catch (cause) {
      // Nova's API may be failing over itself: keep following until the deadline.
      read = false;
      last = `cannot read it: ${words(cause)}`;
    }
    if (read && !now) return { deleted: true, reason: "deleted while being evacuated" };
    if (now) {
      last = `${now.status}, task_state ${now.taskState ?? "none"}, on ${now.host ?? "no host"}`;
      const to = arrived(run, now, before);
      if (to) return { to, reason: "" };
      if (now.taskState === null && now.vmState === "error")
        return { reason: `ERROR on ${now.host ?? "no host"}${now.fault ? `: ${now.fault}` : ""}` };
      // ACTIVE with no task but still on the failed host: Nova saves the state before it moves
      // the host (lab note 6.6, bug 1896463); a later read shows the new host.
    }
    if (performance.now() >= deadline)
      return { reason: `not done after ${run.settings.evacuation_timeout_s} s: ${last}` };
  }
}

export function words(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
