/**
 * @module
 * The status probe of an OpenStack API: each controller asks its own API instance, at the
 * management address HAProxy's backends use, the question HAProxy's check asks. An answer below
 * 500 is an API that works (401 from an API that wants a token is an answer); a refused
 * connection, a timeout or a 5xx is not. One controller down degrades, all down is down.
 */
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import { controllerNames } from "../hosts.ts";
import type { ApiListener } from "./spec.ts";

/** The URL a controller asks itself for a listener; every OpenStack listener speaks HTTP(S). */
export function probeUrl(listener: ApiListener, ip: string, port: number): string {
  const scheme = listener.scheme ?? "http";
  const path = listener.check.kind === "tcp" ? "/" : listener.check.path;
  const checkPort = listener.check.kind === "http-port" ? listener.check.port : port;
  return `${scheme}://${ip}:${checkPort}${path}`;
}

/** curl prints the status code; -k because a TLS listener's certificate names the public VIP, not this address. */
export function probeCommand(url: string): string[] {
  return ["curl", "-sS", "-k", "-o", "/dev/null", "--max-time", "5", "-w", "%{http_code}", url];
}

/** A state from curl's exit code and the status it printed. */
export function judge(code: number, status: string, stderr: string, url: string): ProbeResult {
  const http = Number(status);
  if (code === 0 && http >= 100 && http < 500) return { state: "ok", summary: `HTTP ${http} from ${url}` };
  if (code === 0) return { state: "down", summary: `HTTP ${status} from ${url}` };
  return { state: "down", summary: `no answer from ${url}: ${lastLine(stderr) || `curl exit code ${code}`}` };
}

export function apiProbes(
  service: string,
  listeners: readonly ApiListener[],
  topology: Topology,
): ProbeSpec[] {
  return listeners.flatMap((listener) => {
    const endpoint = topology.endpoints[listener.endpoint];
    if (!endpoint) return [];
    return [
      {
        id: listener.name,
        title: `${service} API ${listener.name} answers on each controller`,
        on: "each",
        hosts: controllerNames(topology),
        weight: "redundant",
        async run(ctx: ProbeContext): Promise<ProbeResult> {
          const host = ctx.host;
          if (!host) return { state: "unknown", summary: "no host" };
          const url = probeUrl(listener, host.ip, endpoint.port);
          const r = await ctx.exec(host.name, probeCommand(url));
          return judge(r.code, r.stdout.trim(), r.stderr, url);
        },
      },
    ];
  });
}
