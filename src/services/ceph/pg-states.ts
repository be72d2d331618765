import type { HealthState } from "../../health/types.ts";

/**
 * The book's PG states (ch. 14.2.1) with what each means for clients: the status screen names
 * every PG that is not active+clean with this meaning, so the operator reads "why" next to "what".
 */
export const PG_STATE_MEANINGS: Readonly<Record<string, string>> = {
  creating: "being created with its pool",
  peering: "its OSDs are agreeing on its state; client I/O to it waits",
  activating: "peered, becoming active",
  degraded: "fewer copies than size; I/O continues while copies >= min_size",
  undersized: "fewer OSDs in its acting set than the pool's size",
  recovering: "bringing a stale copy up to date (an OSD came back)",
  recovery_wait: "waiting for its turn to recover",
  recovery_toofull: "cannot recover: the target OSD is too full",
  backfilling: "copying to a new or returning OSD",
  backfill_wait: "waiting for its turn to backfill",
  backfill_toofull: "cannot backfill: the target OSD is above backfillfull",
  remapped: "temporarily served by other OSDs while data moves",
  scrubbing: "consistency check running",
  deep: "deep scrub: every object read and checksummed",
  inconsistent: "copies differ; needs `ceph pg repair`",
  incomplete: "missing history; the OSD with the newest data must come back",
  peered: "peered but below min_size: no client I/O",
  stale: "its OSDs stopped reporting: the monitors do not know its state",
  down: "an OSD it needs is down: no I/O",
  unknown: "no manager has reported it yet (no active mgr, or just created)",
  inactive: "cannot serve I/O",
  snaptrim: "removing deleted snapshots",
  snaptrim_wait: "waiting to remove deleted snapshots",
  clean: "every copy in place",
  active: "serving I/O",
};

const ROUTINE = ["scrubbing", "deep", "snaptrim", "snaptrim_wait"];

/** States that stop client I/O on the PG: the book's red signals. */
const BLOCKING = [
  "peered",
  "stale",
  "down",
  "incomplete",
  "unknown",
  "creating",
  "peering",
  "activating",
  "inconsistent",
];

/** "active+undersized+degraded" -> down when no client I/O is possible, degraded otherwise. */
export function pgStateHealth(state: string): HealthState {
  const parts = state.split("+");
  // Scrubs and snapshot trims run on healthy PGs: active+clean+scrubbing+deep is fine.
  const core = parts.filter((p) => !ROUTINE.includes(p));
  if (core.length === 2 && core.includes("active") && core.includes("clean")) return "ok";
  if (!parts.includes("active") || parts.some((p) => BLOCKING.includes(p))) return "down";
  return "degraded";
}

/** The meaning of every part that is not plain active/clean, for a status line. */
export function explainPgState(state: string): string {
  const parts = state.split("+").filter((p) => p !== "active" && p !== "clean");
  if (!state.split("+").includes("active")) parts.unshift("inactive");
  return parts.map((p) => `${p}: ${PG_STATE_MEANINGS[p] ?? "see `ceph pg ls`"}`).join("; ");
}
