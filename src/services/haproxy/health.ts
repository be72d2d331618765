import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
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

export interface ProxyStat {
  proxy: string;
  server: string;
  status: string;
  check: string;
  backup: boolean;
}

/** `show stat` CSV: the first line names the columns ("# pxname,svname,..."). */
export function parseShowStat(csv: string): ProxyStat[] {
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  const header = (lines[0] ?? "").replace(/^#\s*/, "").split(",");
  const col = (name: string) => header.indexOf(name);
  const [px, sv, st, ck, bk] = [col("pxname"), col("svname"), col("status"), col("check_status"), col("bck")];
  return lines.slice(1).map((line) => {
    const f = line.split(",");
    return {
      proxy: f[px] ?? "",
      server: f[sv] ?? "",
      status: f[st] ?? "",
      check: f[ck] ?? "",
      backup: f[bk] === "1",
    };
  });
}

async function probeStats(ctx: ProbeContext): Promise<ProbeResult> {
  const host = ctx.host?.name ?? "";
  const result = await ctx.exec(host, [
    "sh",
    "-c",
    "echo 'show stat' | socat - UNIX-CONNECT:/run/haproxy/admin.sock",
  ]);
  if (result.code !== 0 || !result.stdout.startsWith("#")) {
    return {
      state: "down",
      summary: `stats socket does not answer: ${lastLine(result.stderr)}`,
    };
  }
  const stats = parseShowStat(result.stdout);
  const servers = stats.filter((s) => s.server !== "FRONTEND" && s.server !== "BACKEND" && s.proxy !== "stats");
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
