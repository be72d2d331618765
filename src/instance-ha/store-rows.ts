/**
 * @module
 * What the engine writes to its history database and reads back. A database is a boundary: a
 * row may have been written by another engine version, or edited by hand during an incident, so
 * every row read is checked with zod, and a bad one is an error naming its table and column
 * rather than a standby resuming from a phase it does not know.
 */
import { z } from "zod";
import { HastackError } from "../util/errors.ts";
import type { Phase } from "./host-state.ts";

export type EventKind = "phase" | "gate" | "fence" | "evacuation" | "alert" | "operator";

/** One server's evacuation in one episode, as it stands. */
export type EvacuationStatus =
  /** The engine won the claim; Nova may or may not have been asked yet (see store.ts). */
  | "claimed"
  /** Nova accepted the evacuate call. */
  | "requested"
  /** The server runs on another host. */
  | "done"
  /** Nova failed it (NoValidHost, a rebuild error), or the engine gave up after its attempts. */
  | "failed"
  /** The capacity plan found no room for it: never asked. */
  | "unplaced";

export const PHASES = [
  "healthy",
  "suspect",
  "failed",
  "fencing",
  "fenced",
  "evacuating",
  "evacuated",
  "recovering",
  "disabled",
] as const satisfies readonly Phase[];
/** Every kind of history entry (`ha history --kind` offers these; zod: the column, the webhook body). */
export const EVENT_KINDS = [
  "phase",
  "gate",
  "fence",
  "evacuation",
  "alert",
  "operator",
] as const satisfies readonly EventKind[];
const STATUSES = [
  "claimed",
  "requested",
  "done",
  "failed",
  "unplaced",
] as const satisfies readonly EvacuationStatus[];

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One entry of the history, as the engine records it; `engine` and `id` come from the store. */
export interface HaEvent {
  at: Date;
  /** The compute it is about; none for engine-wide entries (a closed valve, a takeover). */
  host?: string;
  kind: EventKind;
  phaseFrom?: Phase;
  phaseTo?: Phase;
  /** The sentence the engine logs (a transition's reason, a gate's verdict). */
  detail: string;
  /** Whatever the entry needs beyond the sentence (a gate name, a fence method, a plan). */
  data?: { [key: string]: Json };
}

export interface StoredEvent extends HaEvent {
  id: number;
  /** The engine node that recorded it. */
  engine: string;
}

export interface Evacuation {
  episode: string;
  serverId: string;
  name: string;
  fromHost: string;
  toHost?: string;
  attempts: number;
  status: EvacuationStatus;
  /** The engine node that won the claim. */
  claimedBy: string;
  startedAt: Date;
  finishedAt?: Date;
  detail?: string;
}

/** Where a compute was, for a standby that takes over: what it needs to carry on, no more. */
export interface HostSnapshot {
  host: string;
  phase: Phase;
  /** When it entered the phase: wall clock (the engine's own `since` is its process's monotonic clock). */
  since: Date;
  /** The episode of trouble it is in (fence, evacuation), while it is in one. */
  episode?: string;
  fencedBootId?: string;
  fenceMethod?: "power" | "storage";
  /** It failed again soon after it recovered: it stays disabled when it is back. */
  holdDisabled: boolean;
  recoveredAt?: Date;
}

export interface StoredHost extends HostSnapshot {
  engine: string;
  updatedAt: Date;
}

/** SQL NULL as absent, so rows read back compare equal to what was written. */
function optional<T extends z.ZodType>(schema: T) {
  return schema.nullable().transform((v) => v ?? undefined);
}
const text = z.string().min(1);
const when = z.date();
/**
 * JSON columns are LONGTEXT in MariaDB: mysql2 parses them when the server marks the column as
 * JSON (MariaDB 11 does), and hands over the text otherwise.
 */
const jsonObject = z
  .unknown()
  .transform((v, ctx) => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "not JSON" });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.json()));

export const EventRow = z
  .object({
    id: z.union([z.int(), z.string().regex(/^\d+$/).transform(Number)]),
    at: when,
    engine: text,
    host: optional(text),
    kind: z.enum(EVENT_KINDS),
    phase_from: optional(z.enum(PHASES)),
    phase_to: optional(z.enum(PHASES)),
    detail: z.string(),
    data: optional(jsonObject),
  })
  .transform(
    (r): StoredEvent =>
      dropUndefined({
        id: r.id,
        at: r.at,
        engine: r.engine,
        host: r.host,
        kind: r.kind,
        phaseFrom: r.phase_from,
        phaseTo: r.phase_to,
        detail: r.detail,
        data: r.data as HaEvent["data"],
      }),
  );

export const EvacuationRow = z
  .object({
    episode: text,
    server_id: text,
    name: z.string(),
    from_host: text,
    to_host: optional(text),
    attempts: z.int().min(0),
    status: z.enum(STATUSES),
    claimed_by: text,
    started_at: when,
    finished_at: optional(when),
    detail: optional(z.string()),
  })
  .transform(
    (r): Evacuation =>
      dropUndefined({
        episode: r.episode,
        serverId: r.server_id,
        name: r.name,
        fromHost: r.from_host,
        toHost: r.to_host,
        attempts: r.attempts,
        status: r.status,
        claimedBy: r.claimed_by,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        detail: r.detail,
      }),
  );

export const HostRow = z
  .object({
    host: text,
    phase: z.enum(PHASES),
    since: when,
    episode: optional(text),
    fenced_boot_id: optional(text),
    fence_method: optional(z.enum(["power", "storage"])),
    hold_disabled: z.union([z.literal(0), z.literal(1)]).transform((v) => v === 1),
    recovered_at: optional(when),
    engine: text,
    updated_at: when,
  })
  .transform(
    (r): StoredHost =>
      dropUndefined({
        host: r.host,
        phase: r.phase,
        since: r.since,
        episode: r.episode,
        fencedBootId: r.fenced_boot_id,
        fenceMethod: r.fence_method,
        holdDisabled: r.hold_disabled,
        recoveredAt: r.recovered_at,
        engine: r.engine,
        updatedAt: r.updated_at,
      }),
  );

/** Keys whose value is undefined removed: a row read back deep-equals the object written. */
function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Every row checked; the first bad one is an error naming the table, the row's key and the column. */
export function parseRows<T>(
  table: string,
  key: (row: Record<string, unknown>) => string,
  schema: z.ZodType<T>,
  rows: unknown,
): T[] {
  if (!Array.isArray(rows))
    throw new HastackError("E_HA_STORE_ROW", `Cannot read ${table}: the driver returned no rows`);
  return rows.map((row: Record<string, unknown>) => {
    const parsed = schema.safeParse(row);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const column = issue?.path.join(".") || "the row";
    throw new HastackError(
      "E_HA_STORE_ROW",
      `Cannot read ${table} row ${key(row)}: ${column}: ${issue?.message}`,
      { hint: "written by another engine version, or edited by hand: fix or delete that row" },
    );
  });
}
