/**
 * @module
 * chrony through `chronyc -c tracking` and `chronyc -c sources` (CSV, one record per line), parsed
 * through zod: the runbook's V1 (`chronyc sources` shows a selected source) as data. Offsets are
 * in seconds, as chronyc prints them.
 */
import { z } from "zod";
import type { Transport } from "../transport/types.ts";
import { parseToolOutput } from "./command.ts";

const Float = z
  .string()
  .regex(/^[-+]?\d+(\.\d+)?(e[-+]?\d+)?$/i)
  .transform((v) => Number(v));
const Int = z
  .string()
  .regex(/^\d+$/)
  .transform((v) => Number(v));

/** The 14 fields of `chronyc -c tracking`, in chronyc's order. */
const TrackingRow = z.tuple([
  z.string().regex(/^[0-9A-F]{8}$/i), // reference id
  z.string(), // reference name or address ("" when unsynchronised)
  Int, // stratum
  Float, // reference time (epoch)
  Float, // system time: offset of the system clock from NTP time
  Float, // last offset
  Float, // RMS offset
  Float, // frequency (ppm)
  Float, // residual frequency
  Float, // skew
  Float, // root delay
  Float, // root dispersion
  Float, // update interval
  z.enum(["Normal", "Insert second", "Delete second", "Not synchronised"]),
]);

export interface Tracking {
  referenceId: string;
  reference: string;
  stratum: number;
  /** Seconds between this clock and NTP time (chronyc's "System time"); the sign says fast or slow. */
  systemOffset: number;
  lastOffset: number;
  rootDelay: number;
  rootDispersion: number;
  leap: z.output<typeof TrackingRow>[13];
  /** chrony has a reference it follows (leap status other than "Not synchronised"). */
  synchronised: boolean;
}

function csvRows(text: string): string[][] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split(","));
}

export function parseTracking(host: Pick<Transport, "name">, text: string): Tracking {
  // One record, exactly: a tuple of one row.
  const [row] = parseToolOutput(host, "chronyc -c tracking", z.tuple([TrackingRow]), csvRows(text));
  const [
    referenceId,
    reference,
    stratum,
    ,
    systemOffset,
    lastOffset,
    ,
    ,
    ,
    ,
    rootDelay,
    rootDispersion,
    ,
    leap,
  ] = row;
  return {
    referenceId,
    reference,
    stratum,
    systemOffset,
    lastOffset,
    rootDelay,
    rootDispersion,
    leap,
    synchronised: leap !== "Not synchronised" && referenceId !== "00000000",
  };
}

/** `chronyc sources` state column: * selected, + combined, - not combined, ? unusable, x falseticker, ~ too variable. */
const SourceRow = z.tuple([
  z.enum(["^", "=", "#"]), // server, peer, local reference clock
  z.enum(["*", "+", "-", "?", "x", "~"]),
  z.string().min(1), // name or address
  Int, // stratum
  z.string(), // poll (log2 seconds, may be negative)
  z.string().regex(/^[0-7]+$/), // reach register, octal
  z.string(), // seconds since the last sample ("-" when never)
  Float, // adjusted offset of the last sample
  Float, // measured offset
  Float, // estimated error
]);

export type SourceState =
  | "selected"
  | "combined"
  | "not-combined"
  | "unusable"
  | "falseticker"
  | "too-variable";

const states: Record<z.output<typeof SourceRow>[1], SourceState> = {
  "*": "selected",
  "+": "combined",
  "-": "not-combined",
  "?": "unusable",
  x: "falseticker",
  "~": "too-variable",
};

export interface Source {
  mode: "server" | "peer" | "refclock";
  state: SourceState;
  name: string;
  stratum: number;
  /** The last 8 polls as bits: 0 means nothing heard for 8 polls. */
  reach: number;
  offset: number;
  error: number;
}

export function parseSources(host: Pick<Transport, "name">, text: string): Source[] {
  const rows = parseToolOutput(host, "chronyc -c sources", z.array(SourceRow), csvRows(text));
  return rows.map(([mode, state, name, stratum, , reach, , offset, , error]) => ({
    mode: mode === "^" ? "server" : mode === "=" ? "peer" : "refclock",
    state: states[state],
    name,
    stratum,
    reach: Number.parseInt(reach, 8),
    offset,
    error,
  }));
}
