/**
 * @module
 * The status probe of an OpenStack API: each controller asks its own API instance, at the
 * management address HAProxy's backends use, the question HAProxy's check asks. An answer below
 * 500 is an API that works (401 from an API that wants a token is an answer); a refused
 * connection, a timeout or a 5xx is not. One controller down degrades, all down is down.
 * With `tokenProbe`, each controller also asks the API through the VIP with a token of the
 * service's own user: Keystone, HAProxy, the API and its keystonemiddleware all take part.
 */
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import type { ExecResult } from "../../transport/types.ts";
import { lastLine } from "../../util/text.ts";
import { controllerNames } from "../hosts.ts";
import { login, retryNote } from "../keystone/token.ts";
import { secretNames } from "./oslo.ts";
import type { ApiListener, TokenRequest } from "./spec.ts";

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

/**
 * curl with the token on stdin (-H @-): a token is a bearer credential, never in argv. 20 s, not
 * the 5 s of the plain answer: the API's keystonemiddleware validates the token with Keystone
 * first, and the first request a just-restarted API worker serves also loads it; on the lab right
 * after a deploy, with status itself keeping both cores busy, that took over 10 s.
 */
export function tokenRequestCommand(url: string): string[] {
  return ["curl", "-sS", "-k", "-o", "/dev/null", "--max-time", "20", "-w", "%{http_code}", "-H", "@-", url];
}

/** A state from the authenticated request's answer: only the status the API promises is ok. */
export function judgeTokenRequest(
  r: Pick<ExecResult, "code" | "stdout" | "stderr">,
  url: string,
  want: number,
): ProbeResult {
  const status = r.stdout.trim();
  if (r.code !== 0)
    return {
      state: "down",
      summary: `no answer from ${url}: ${lastLine(r.stderr) || `curl exit code ${r.code}`}`,
    };
  if (status === String(want)) return { state: "ok", summary: `HTTP ${status} from ${url} with a token` };
  return { state: "down", summary: `HTTP ${status || "?"} from ${url} with a token, not ${want}` };
}

export function tokenProbes(
  service: string,
  request: TokenRequest | undefined,
  topology: Topology,
): ProbeSpec[] {
  const keystone = topology.endpoints.keystone;
  const endpoint = request ? topology.endpoints[request.endpoint] : undefined;
  if (!request || !keystone || !endpoint) return [];
  const url = `${endpoint.internal.replace(/\/$/, "")}${request.path}`;
  return [
    {
      id: "vip-token",
      title: `${service} API through the VIP with a token of the ${service} service user`,
      on: "each",
      hosts: controllerNames(topology),
      weight: "redundant",
      timeoutMs: 60_000,
      async run(ctx: ProbeContext): Promise<ProbeResult> {
        const host = ctx.host;
        if (!host) return { state: "unknown", summary: "no host" };
        const exec = ctx.exec.bind(ctx, host.name);
        // One login of the service user per run, from whichever controller asks first: the
        // question here is the API behind the VIP, Keystone's own probe logs in on each controller.
        const auth = await ctx.shared(`login ${keystone.internal} ${service}@service`, () =>
          login((c, o) => exec(c, o), {
            authUrl: keystone.internal,
            user: service,
            password: ctx.secret(secretNames(service).identity),
            project: "service",
          }),
        );
        if (!auth.ok)
          return {
            state: "down",
            summary: `no token for ${service} from ${keystone.internal}${retryNote(auth)}: ${auth.reason}`,
          };
        const r = await exec(tokenRequestCommand(url), {
          stdin: `X-Auth-Token: ${auth.token}\n`,
          timeoutMs: 30_000,
        });
        const judged = judgeTokenRequest(r, url, request.status);
        // The note names the login, not the API request: that one is asked once.
        return auth.attempts > 1
          ? { ...judged, summary: `${judged.summary} (token on the second attempt)` }
          : judged;
      },
    },
  ];
}
