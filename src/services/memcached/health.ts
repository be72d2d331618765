import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { tcpExchange } from "../../hostkit/tcp.ts";
import { MEMCACHED_PORT } from "./settings.ts";

/** A real set and get on each node's memcached, at the address the services use. */
export function memcachedHealth(): ProbeSpec[] {
  return [{ id: "node", title: "memcached set+get", on: "each", weight: "redundant", run: probe }];
}

/** The memcached text protocol's answer to a set, a get and stats, read for the summary. */
export function readMemcachedReply(
  reply: string,
  token: string,
): { ok: boolean; items: string; bytes?: number } {
  // The set is the first command: its answer is the first line ("NOT_STORED" also ends in STORED).
  const ok = reply.startsWith("STORED\r\n") && reply.includes(`\r\n${token}\r\n`);
  const items = /STAT curr_items (\d+)/.exec(reply)?.[1] ?? "?";
  const bytes = /STAT bytes (\d+)/.exec(reply)?.[1];
  return { ok, items, ...(bytes ? { bytes: Number(bytes) } : {}) };
}

async function probe(ctx: ProbeContext): Promise<ProbeResult> {
  const host = ctx.host;
  if (!host) return { state: "unknown", summary: "no host" };
  const token = Date.now().toString(36);
  const request = `set hastack_probe 0 30 ${token.length}\r\n${token}\r\nget hastack_probe\r\nstats\r\nquit\r\n`;
  const r = await tcpExchange(ctx.transport(host.name), host.ip, MEMCACHED_PORT, request, {
    signal: ctx.signal,
  });
  if (!r.connected && r.reply === "") {
    return { state: "down", summary: `no answer on ${host.ip}:${MEMCACHED_PORT}: ${r.error}` };
  }
  const { ok, items, bytes } = readMemcachedReply(r.reply, token);
  return ok
    ? {
        state: "ok",
        summary: `set+get ok, ${items} items${bytes !== undefined ? `, ${(bytes / 1048576).toFixed(1)} MiB` : ""}`,
      }
    : { state: "down", summary: "set or get failed" };
}
