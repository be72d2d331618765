import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { showStat } from "../../hostkit/haproxy-runtime.ts";
import { lastLine } from "../../util/text.ts";

/** Every frontend and backend server, read from each controller's own HAProxy stats socket. */
export function haproxyHealth(): ProbeSpec[] {
  return [
    {
      id: "backends",
      title: "HAProxy frontends and backends",
      on: "each",
      weight: "redundant",
      run: probeStats,
    },
  ];
}

async function probeStats(ctx: ProbeContext): Promise<ProbeResult> {
  const host = ctx.host?.name ?? "";
  const stats = await showStat(ctx.transport(host), { signal: ctx.signal }).catch((e: Error) => e);
  if (stats instanceof Error)
    return { state: "down", summary: `stats socket does not answer: ${lastLine(stats.message)}` };
  const servers = stats.filter((s) => s.kind === "server" && s.proxy !== "stats");
  const proxies = [...new Set(servers.map((s) => s.proxy))];
  const up = servers.filter((s) => s.status.startsWith("UP"));
  const down = servers.filter((s) => !s.status.startsWith("UP"));
  const deadProxies = proxies.filter((p) => !servers.some((s) => s.proxy === p && s.status.startsWith("UP")));
  const summary = [
    `${proxies.length} proxies, ${up.length}/${servers.length} servers up`,
    ...(down.length > 0 ? [`down: ${down.map((s) => `${s.proxy}/${s.server}`).join(" ")}`] : []),
  ].join("; ");
  const state = deadProxies.length > 0 ? "down" : down.length > 0 ? "degraded" : "ok";
  return { state, summary, details: { proxies: deadProxies.length ? { dead: deadProxies } : {}, servers } };
}
