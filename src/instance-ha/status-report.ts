/**
 * @module
 * What the operator sees of instance HA (#10 item 7), read from the engine's history store:
 * `hastack ha status` (each compute's phase and episode, its evacuations VM by VM, the gates'
 * latest verdicts, whether the engine runs dry) and `hastack ha history` (one line per entry).
 *
 * The reading and the wording are here, apart from commander, so they are tested against a real
 * database. The store keeps no heartbeats (the engine holds them in memory), so "last heard"
 * is not shown; the snapshot's `updatedAt` and the history's newest entry say when the engine
 * last wrote.
 */
import type { Evacuation, EvacuationStatus, Store, StoredEvent, StoredHost } from "./store.ts";

/** One compute as the store knows it. */
export interface HostStatus {
  host: string;
  /** None for a compute that never changed phase while an engine watched it (it starts healthy). */
  snapshot?: StoredHost;
  /** Its current episode's evacuations, one per server. */
  evacuations: Evacuation[];
  /** Its newest gate decision, read for a host in trouble only (a healthy host's is stale). */
  lastGate?: StoredEvent;
}

export interface HaStatus {
  /** When it was read: the reference for every "ago". */
  at: Date;
  hosts: HostStatus[];
  /** The newest gate decisions, oldest first. */
  gates: StoredEvent[];
  /** The history's newest entry: when the engine last wrote anything. */
  last?: StoredEvent;
  /** The newest decision that passed every other gate, when the dry-run gate stopped it. */
  dryRun?: StoredEvent;
}

export type StatusSource = Pick<Store, "hosts" | "evacuations" | "history">;

/** The status of `computes` (the inventory's) and of any other host the store has a snapshot of. */
export async function readStatus(
  store: StatusSource,
  computes: readonly string[],
  at: Date,
  gateLimit = 10,
): Promise<HaStatus> {
  const snapshots = await store.hosts();
  const names = [...new Set([...computes, ...snapshots.map((s) => s.host)])].sort();
  const hosts: HostStatus[] = [];
  for (const host of names) {
    const snapshot = snapshots.find((s) => s.host === host);
    const evacuations = snapshot?.episode ? await store.evacuations(snapshot.episode) : [];
    const lastGate = inTrouble(snapshot)
      ? (await store.history({ host, kind: "gate", limit: 1 }))[0]
      : undefined;
    hosts.push({
      host,
      ...(snapshot ? { snapshot } : {}),
      evacuations,
      ...(lastGate ? { lastGate } : {}),
    });
  }
  const gates = await store.history({ kind: "gate", limit: gateLimit });
  const [last] = await store.history({ limit: 1 });
  // Gates before dry run (valve, control plane...) say nothing about it: the newest decision that
  // got past them does.
  const passed = gates.findLast((g) => g.data?.act === true || g.data?.gate === "dry-run");
  return {
    at,
    hosts,
    gates,
    ...(last ? { last } : {}),
    ...(passed?.data?.gate === "dry-run" ? { dryRun: passed } : {}),
  };
}

function inTrouble(s: StoredHost | undefined): boolean {
  return s !== undefined && s.phase !== "healthy" && s.phase !== "disabled";
}

/** `ha status` as text, one line each. */
export function statusLines(s: HaStatus): string[] {
  const troubled = s.hosts.filter((h) => inTrouble(h.snapshot)).length;
  const lines = [`instance HA at ${clock(s.at)}: ${troubled} of ${s.hosts.length} compute(s) in trouble`];
  if (s.dryRun)
    lines.push(
      `DRY RUN: the engine decides and records, but never fences or evacuates (its last decision, ${clock(s.dryRun.at)}: ${s.dryRun.detail})`,
    );
  const width = Math.max(0, ...s.hosts.map((h) => h.host.length));
  for (const h of s.hosts) lines.push(...hostLines(h, width, s.at));
  if (s.gates.length > 0) {
    lines.push("recent gate decisions (newest last):");
    lines.push(...historyLines(s.gates).map((l) => `  ${l}`));
  }
  lines.push(
    s.last
      ? `last entry in the history: ${clock(s.last.at)} (${ago(s.at, s.last.at)}) by ${s.last.engine}: ${s.last.detail}`
      : "the history is empty: the engine created its tables but has recorded nothing yet",
  );
  return lines;
}

function hostLines(h: HostStatus, width: number, now: Date): string[] {
  const name = h.host.padEnd(width);
  const s = h.snapshot;
  if (!s) return [`${name}  healthy  (no change recorded while an engine watched it)`];
  const extra = [
    s.episode ? `episode ${s.episode}` : "",
    s.fenceMethod ? `fenced by ${s.fenceMethod}` : "",
    s.holdDisabled ? "held disabled (it failed again soon after it recovered)" : "",
  ].filter((x) => x !== "");
  const lines = [
    `${name}  ${s.phase}  since ${clock(s.since)} (${ago(now, s.since)})${extra.map((x) => `  ${x}`).join("")}`,
  ];
  const indent = " ".repeat(width + 2);
  lines.push(`${indent}written by ${s.engine} at ${clock(s.updatedAt)}`);
  if (h.lastGate) lines.push(`${indent}last gate ${clock(h.lastGate.at)}: ${gateVerdict(h.lastGate)}`);
  if (h.evacuations.length > 0) {
    lines.push(`${indent}evacuations: ${tally(h.evacuations)}`);
    for (const e of h.evacuations) lines.push(`${indent}  ${vmLine(e)}`);
  }
  return lines;
}

const ORDER: readonly EvacuationStatus[] = ["done", "requested", "claimed", "failed", "unplaced"];

function tally(rows: readonly Evacuation[]): string {
  return ORDER.map((status) => [status, rows.filter((r) => r.status === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(", ");
}

function vmLine(e: Evacuation): string {
  const where = e.toHost ? ` on ${e.toHost}` : "";
  const tries = e.attempts > 0 ? `, ${e.attempts} attempt(s)` : "";
  return `${e.name} (${e.serverId}): ${e.status}${where}${tries}${e.detail ? `: ${e.detail}` : ""}`;
}

/** A gate entry's verdict: acted, or the gate that stopped it. */
function gateVerdict(e: StoredEvent): string {
  if (e.data?.act === true) return `act: ${e.detail}`;
  const gate = typeof e.data?.gate === "string" ? e.data.gate : "a gate";
  return `${gate === "dry-run" ? "dry run" : `BLOCKED by ${gate}`}: ${e.detail}`;
}

/** `ha history` as text: time, host ("-" for engine-wide entries), kind, detail, engine. */
export function historyLines(events: readonly StoredEvent[]): string[] {
  const width = Math.max(1, ...events.map((e) => (e.host ?? "-").length));
  return events.map((e) => {
    const detail =
      e.kind === "gate"
        ? gateVerdict(e)
        : e.kind === "phase" && e.phaseFrom && e.phaseTo
          ? `${e.phaseFrom} -> ${e.phaseTo}: ${e.detail}`
          : e.detail;
    return `${clock(e.at)}  ${(e.host ?? "-").padEnd(width)}  ${e.kind.padEnd(10)}  ${detail}  [${e.engine}]`;
  });
}

/** UTC to the second: the store's times are UTC, and every node's log reads the same. */
function clock(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** How long before `now`, in its two largest units ("5m 3s ago", "2h 5m ago", "3d 4h ago"). */
export function ago(now: Date, then: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - then.getTime()) / 1000));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  const span = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
  return `${span} ago`;
}
