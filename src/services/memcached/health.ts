import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { lastLine } from "../../util/text.ts";

/** A real set and get on each node's memcached, at the address the services use. */
export function memcachedHealth(): ProbeSpec[] {
  return [{ id: "node", title: "memcached set+get", on: "each", weight: "redundant", run: probe }];
}

async function probe(ctx: ProbeContext): Promise<ProbeResult> {
  const host = ctx.host;
  if (!host) return { state: "unknown", summary: "no host" };
  const token = Date.now().toString(36);
  // bash's /dev/tcp: no client package needed on the host.
  const script = `exec 3<>/dev/tcp/${host.ip}/11211 && printf 'set hastack_probe 0 30 ${token.length}\\r\\n${token}\\r\\nget hastack_probe\\r\\nstats\\r\\nquit\\r\\n' >&3 && timeout 3 cat <&3`;
  const result = await ctx.exec(host.name, ["bash", "-c", script]);
  if (result.code !== 0 && !result.stdout.includes("STORED")) {
    return {
      state: "down",
      summary: `no answer on ${host.ip}:11211: ${lastLine(result.stderr)}`,
    };
  }
  const ok = result.stdout.includes("STORED") && result.stdout.includes(`\r\n${token}\r\n`);
  const items = /STAT curr_items (\d+)/.exec(result.stdout)?.[1] ?? "?";
  const mem = /STAT bytes (\d+)/.exec(result.stdout)?.[1];
  return ok
    ? {
        state: "ok",
        summary: `set+get ok, ${items} items${mem ? `, ${(Number(mem) / 1048576).toFixed(1)} MiB` : ""}`,
      }
    : { state: "down", summary: "set or get failed" };
}
