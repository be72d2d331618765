/**
 * @module
 * A service's own view through its API on the VIP, asked the way any client asks: a token of the
 * service user (admin in the service project, which os-services-like listings require), then GET
 * on the endpoint's internal URL. The password goes to curl on stdin (keystone/token.ts) and so
 * does the token (-H @-); answers go through zod. Nova's and Cinder's probes and steps share it.
 */
import type { z } from "zod";
import { parseToolOutput } from "../../hostkit/command.ts";
import type { Topology } from "../../topology/types.ts";
import type { ExecOptions, ExecResult } from "../../transport/types.ts";
import { type ErrorCode, HastackError } from "../../util/errors.ts";
import { lastLine } from "../../util/text.ts";
import { login } from "../keystone/token.ts";

export type Exec = (command: string[], opts: ExecOptions) => Promise<ExecResult>;

export interface ApiGetInput {
  /** Where curl runs (a controller), for the error. */
  host: string;
  topology: Topology;
  /** The service user's password (svc_<service>). */
  password: string;
}

export interface ApiTarget {
  /** The service user, which is also the endpoint id (nova, cinder). */
  service: string;
  /** The error code thrown when there is no token, no answer, or not 200. */
  code: ErrorCode;
}

const MARK = "\n--hastack-status--";

export function apiGetCommand(url: string): string[] {
  return ["curl", "-sS", "--max-time", "10", "-H", "@-", "-w", `${MARK}%{http_code}`, url];
}

/** The endpoint's internal URL through the VIP without a trailing slash, e.g. http://10.20.0.10:8774/v2.1 */
export function internalUrl(topology: Topology, service: string): string {
  const endpoint = topology.endpoints[service];
  if (!endpoint)
    throw new HastackError("E_OPENSTACK_SPEC", `Cannot ask the ${service} API: ${service} has no endpoint`, {
      hint: `${service} must be enabled (services.openstack.enabled)`,
    });
  return endpoint.internal.replace(/\/$/, "");
}

/**
 * GET `path` on the service's API with a token of its user; the body read through `schema`.
 * Throws `target.code` (no token, no answer, not 200) or E_TOOL_OUTPUT (an answer not as
 * documented), naming `host` and never the token or the password.
 */
export async function serviceGet<S extends z.ZodType>(
  exec: Exec,
  target: ApiTarget,
  input: ApiGetInput,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  const { service, code } = target;
  const keystone = input.topology.endpoints.keystone;
  if (!keystone)
    throw new HastackError("E_OPENSTACK_SPEC", `Cannot ask the ${service} API: keystone is not enabled`);
  const auth = await login(exec, {
    authUrl: keystone.internal,
    user: service,
    password: input.password,
    project: "service",
  });
  if (!auth.ok)
    throw new HastackError(
      code,
      `Cannot get a token for ${service} from ${keystone.internal} on ${input.host}: ${auth.reason}`,
    );
  const url = `${internalUrl(input.topology, service)}${path}`;
  const r = await exec(apiGetCommand(url), { stdin: `X-Auth-Token: ${auth.token}\n`, timeoutMs: 20_000 });
  const at = r.stdout.lastIndexOf(MARK);
  const status = at === -1 ? "" : r.stdout.slice(at + MARK.length).trim();
  if (r.code !== 0 || status !== "200") {
    const said = r.code !== 0 ? lastLine(r.stderr) || `curl exit code ${r.code}` : `HTTP ${status || "?"}`;
    throw new HastackError(code, `Cannot GET ${url} on ${input.host}: ${said}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(r.stdout.slice(0, at));
  } catch {
    throw new HastackError("E_TOOL_OUTPUT", `Cannot read GET ${path}'s answer on ${input.host}: not JSON`);
  }
  return parseToolOutput({ name: input.host }, `GET ${path}`, schema, body);
}
