/**
 * @module
 * Nova's own view of its services and hypervisors, asked through the VIP the way any client asks:
 * a token of the nova service user (admin in the service project, which the os-services and
 * os-hypervisors policies require), then GET on the compute API's internal URL. The password
 * goes to curl on stdin (keystone/token.ts) and so does the token (-H @-); answers go through zod.
 */
import { z } from "zod";
import { type ApiGetInput, type Exec, serviceGet } from "../openstack/api-get.ts";

export type { Exec } from "../openstack/api-get.ts";

/** GET /os-hypervisors: one entry per compute node, listed from every cell (mapped or not). */
export const HypervisorList = z.object({
  hypervisors: z.array(z.object({ hypervisor_hostname: z.string(), state: z.string(), status: z.string() })),
});
export type Hypervisor = z.output<typeof HypervisorList>["hypervisors"][number];

/**
 * GET `path` on the compute API with a token of the nova user (openstack/api-get.ts). Throws
 * E_NOVA (no token, no answer, not 200) or E_TOOL_OUTPUT (an answer not as documented).
 */
export function novaGet<S extends z.ZodType>(
  exec: Exec,
  input: ApiGetInput,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  return serviceGet(exec, { service: "nova", code: "E_NOVA" }, input, path, schema);
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
