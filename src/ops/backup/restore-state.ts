/**
 * @module
 * How far a restore got on each controller, kept on that controller (not in the operator's
 * working directory: whoever runs hastack next, from wherever, finds it). Written before each
 * change it announces, so that a restore cut short (a lost SSH session, a killed hastack, a
 * failed join) is resumed by running it again, and never moves or wipes a datadir twice:
 *
 * - `aside`: the old datadir goes (or went) to `aside`; the datadir in its place holds only the
 *   restore's own work (empty, a partial move-back or SST), which a re-run may wipe;
 * - `restored`: the bootstrap node's datadir holds the backup and its grastate.dat;
 * - `started`: Galera runs there (bootstrapped, or joined and Synced);
 * - `done`: the canary row was read on every controller.
 */
import { z } from "zod";
import { parseToolJson, parseToolOutput } from "../../hostkit/command.ts";
import type { Transport } from "../../transport/types.ts";
import { BackupIdSchema } from "./manifest.ts";

export const RESTORE_STATE_PATH = "/var/lib/hastack/restore-state.json";
export const DATADIR = "/var/lib/mysql";
const ASIDE_PREFIX = `${DATADIR}.before-restore-`;

export const PHASES = ["aside", "restored", "started", "done"] as const;
export type RestorePhase = (typeof PHASES)[number];

export const RestoreStateSchema = z.strictObject({
  format: z.literal(1),
  id: BackupIdSchema,
  role: z.enum(["bootstrap", "join"]),
  aside: z.string().startsWith(ASIDE_PREFIX),
  phase: z.enum(PHASES),
  at: z.iso.datetime(),
});
export type RestoreState = z.output<typeof RestoreStateSchema>;

/** Whether a host at `current` got to `phase` (undefined: nothing happened there). */
export function phaseReached(current: RestorePhase | undefined, phase: RestorePhase): boolean {
  return current !== undefined && PHASES.indexOf(current) >= PHASES.indexOf(phase);
}

/** Whether `state` got to `phase` (no state: nothing happened there). */
export function reached(state: RestoreState | undefined, phase: RestorePhase): boolean {
  return phaseReached(state?.phase, phase);
}

/** An unfinished restore: it left a datadir aside and did not read the canary back everywhere. */
export function unfinished(state: RestoreState | undefined): state is RestoreState {
  return state !== undefined && state.phase !== "done";
}

/**
 * Where a restore of `id` puts the old datadir: `/var/lib/mysql.before-restore-<id>`, or with
 * `.2`, `.3`... when an earlier restore of the same backup left that name (kept, never reused).
 */
export function asidePath(id: string, existing: readonly string[]): string {
  const base = `${ASIDE_PREFIX}${id}`;
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}.${n}`;
    if (!existing.includes(candidate)) return candidate;
  }
}

export async function readRestoreState(t: Transport): Promise<RestoreState | undefined> {
  const text = await t.readFile(RESTORE_STATE_PATH);
  if (text === undefined) return undefined;
  const data = parseToolJson(t, RESTORE_STATE_PATH, text.toString("utf8"));
  return parseToolOutput(t, RESTORE_STATE_PATH, RestoreStateSchema, data);
}

/** Atomically (the transport's temp file and rename); its directory is made when missing. */
export async function writeRestoreState(
  t: Transport,
  state: Omit<RestoreState, "format" | "at">,
  now: Date,
): Promise<void> {
  const full: RestoreState = RestoreStateSchema.parse({ format: 1, ...state, at: now.toISOString() });
  await t.writeFile(RESTORE_STATE_PATH, `${JSON.stringify(full)}\n`, {
    owner: "root",
    group: "root",
    mode: 0o600,
  });
}
