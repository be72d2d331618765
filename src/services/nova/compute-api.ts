/**
 * @module
 * Nova's own view of its services and hypervisors, asked through the VIP the way any client asks:
 * a token of the nova service user (admin in the service project, which the os-services and
 * os-hypervisors policies require), then GET on the compute API's internal URL. The password
 * goes to curl on stdin (keystone/token.ts) and so does the token (-H @-); answers go through zod.
 */
import { z } from "zod";
import { parseToolOutput } from "../../hostkit/command.ts";
import type { Topology } from "../../topology/types.ts";
import type { ExecOptions, ExecResult } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLine } from "../../util/text.ts";
import { login } from "../keystone/token.ts";

export type Exec = (command: string[], opts: ExecOptions) => Promise<ExecResult>;

/** GET /os-services?binary=nova-compute (microversion 2.1 fields are enough). */
export const ServiceList = z.object({
  services: z.array(
    z.object({
      binary: z.string(),
      host: z.string(),
      status: z.string(),
      state: z.string(),
    }),
  ),
});
export type NovaService = z.output<typeof ServiceList>["services"][number];

/** GET /os-hypervisors: one entry per compute node, listed from every cell (mapped or not). */
export const HypervisorList = z.object({
  hypervisors: z.array(z.object({ hypervisor_hostname: z.string(), state: z.string(), status: z.string() })),
});
export type Hypervisor = z.output<typeof HypervisorList>["hypervisors"][number];

const MARK = "\n--hastack-status--";

export function apiGetCommand(url: string): string[] {
  return ["curl", "-sS", "--max-time", "10", "-H", "@-", "-w", `${MARK}%{http_code}`, url];
}

/** The compute API's internal URL through the VIP, e.g. http://10.20.0.10:8774/v2.1 */
export function computeUrl(topology: Topology): string {
  const nova = topology.endpoints.nova;
  if (!nova)
    throw new HastackError("E_OPENSTACK_SPEC", "Cannot ask the compute API: nova has no endpoint", {
      hint: "nova must be enabled (services.openstack.enabled)",
    });
  return nova.internal.replace(/\/$/, "");
}

/**
 * GET `path` on the compute API with a token of the nova user; the body read through `schema`.
 * Throws E_NOVA (no token, no answer, not 200) or E_TOOL_OUTPUT (an answer not as documented),
 * naming `host` and never the token or the password.
 */
export async function novaGet<S extends z.ZodType>(
  exec: Exec,
  input: { host: string; topology: Topology; password: string },
  path: string,
  schema: S,
): Promise<z.output<S>> {
  const keystone = input.topology.endpoints.keystone;
  if (!keystone)
    throw new HastackError("E_OPENSTACK_SPEC", "Cannot ask the compute API: keystone is not enabled");
  const auth = await login(exec, {
    authUrl: keystone.internal,
    user: "nova",
    password: input.password,
    project: "service",
  });
  if (!auth.ok)
    throw new HastackError(
      "E_NOVA",
      `Cannot get a token for nova from ${keystone.internal} on ${input.host}: ${auth.reason}`,
    );
  const url = `${computeUrl(input.topology)}${path}`;
  const r = await exec(apiGetCommand(url), { stdin: `X-Auth-Token: ${auth.token}\n`, timeoutMs: 20_000 });
  const at = r.stdout.lastIndexOf(MARK);
  const status = at === -1 ? "" : r.stdout.slice(at + MARK.length).trim();
  if (r.code !== 0 || status !== "200") {
    const said = r.code !== 0 ? lastLine(r.stderr) || `curl exit code ${r.code}` : `HTTP ${status || "?"}`;
    throw new HastackError("E_NOVA", `Cannot GET ${url} on ${input.host}: ${said}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(r.stdout.slice(0, at));
  } catch {
    throw new HastackError("E_TOOL_OUTPUT", `Cannot read GET ${path}'s answer on ${input.host}: not JSON`);
  }
  return parseToolOutput({ name: input.host }, `GET ${path}`, schema, body);
}

/** The inventory computes that nova lists as up (service state up, or hypervisor state up). */
export function upHosts(
  computes: readonly string[],
  entries: readonly { host: string; state: string }[],
  same: (novaHost: string, name: string) => boolean,
): { up: string[]; missing: string[] } {
  const up: string[] = [];
  const missing: string[] = [];
  for (const name of computes) {
    const e = entries.find((x) => same(x.host, name));
    if (e?.state === "up") up.push(name);
    else missing.push(e ? `${name} (${e.state})` : `${name} (not listed)`);
  }
  return { up, missing };
}
