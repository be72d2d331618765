/**
 * @module
 * HAProxy's runtime API on its stats socket (the `stats socket ... level admin` line hastack
 * renders): `show stat` as typed rows, `show info`, and server state changes. The command goes
 * to `socat` on stdin; HAProxy answers on the same connection.
 */
import { z } from "zod";
import type { ExecOptions, Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { parseToolOutput, runTool } from "./command.ts";

export const HAPROXY_SOCKET = "/run/haproxy/admin.sock";

/** Sends one command, returns HAProxy's answer. Throws E_HAPROXY_RUNTIME when the socket does not answer. */
export async function haproxyCommand(t: Transport, command: string, opts?: ExecOptions): Promise<string> {
  const r = await runTool(
    t,
    "E_HAPROXY_RUNTIME",
    `ask HAProxy '${command.split(" ").slice(0, 2).join(" ")}'`,
    ["socat", "-t", "2", "-", `UNIX-CONNECT:${HAPROXY_SOCKET}`],
    { timeoutMs: 10_000, ...opts, stdin: `${command}\n` },
  );
  return r.stdout;
}

/** The `show stat` columns hastack reads (HAProxy documents ~100; the rest are kept as text). */
export const StatRow = z
  .object({
    pxname: z.string().min(1),
    svname: z.string().min(1),
    status: z.string(),
    check_status: z.string(),
    bck: z.string(),
    scur: z.string(),
    type: z.enum(["0", "1", "2", "3"]),
  })
  .transform((r) => ({
    proxy: r.pxname,
    server: r.svname,
    kind: (["frontend", "backend", "server", "listener"] as const)[Number(r.type)] ?? "server",
    status: r.status,
    check: r.check_status,
    backup: r.bck === "1",
    sessions: Number(r.scur || 0),
  }));
export type StatRow = z.output<typeof StatRow>;

/** `show stat` CSV: the first line names the columns ("# pxname,svname,..."). */
export function parseShowStat(t: Transport, csv: string): StatRow[] {
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0] ?? "";
  if (!header.startsWith("# ")) {
    throw new HastackError(
      "E_TOOL_OUTPUT",
      `Cannot read HAProxy's show stat on ${t.name}: no "# pxname,..." header`,
    );
  }
  const columns = header.slice(2).split(",");
  const rows = lines.slice(1).map((line) => {
    const fields = line.split(",");
    return Object.fromEntries(columns.map((c, i) => [c, fields[i] ?? ""]));
  });
  return parseToolOutput(t, "HAProxy show stat", z.array(StatRow), rows);
}

export async function showStat(t: Transport, opts?: ExecOptions): Promise<StatRow[]> {
  return parseShowStat(t, await haproxyCommand(t, "show stat", opts));
}

/** `show info`: "Name: value" lines (Name: HAProxy, Version, Uptime_sec, CurrConns...). */
export async function showInfo(t: Transport, opts?: ExecOptions): Promise<Record<string, string>> {
  const text = await haproxyCommand(t, "show info", opts);
  const info: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const colon = line.indexOf(": ");
    if (colon > 0) info[line.slice(0, colon)] = line.slice(colon + 2);
  }
  if (info.Name !== "HAProxy")
    throw new HastackError(
      "E_TOOL_OUTPUT",
      `Cannot read HAProxy's show info on ${t.name}: it does not say Name: HAProxy`,
    );
  return info;
}

export type ServerState = "ready" | "drain" | "maint";

/** `set server BACKEND/SERVER state ...`; HAProxy answers nothing on success, a reason otherwise. */
export async function setServerState(
  t: Transport,
  backend: string,
  server: string,
  state: ServerState,
  opts?: ExecOptions,
): Promise<void> {
  const answer = (await haproxyCommand(t, `set server ${backend}/${server} state ${state}`, opts)).trim();
  if (answer !== "")
    throw new HastackError(
      "E_HAPROXY_RUNTIME",
      `Cannot set ${backend}/${server} to ${state} on ${t.name}: ${answer}`,
    );
}
