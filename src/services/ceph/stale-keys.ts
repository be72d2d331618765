import type { Topology } from "../../topology/types.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { CLIENTS, clientHosts, clientKeyring } from "./layout.ts";

/**
 * The OpenStack client keyrings a host holds but should not: its service was disabled, or the
 * host no longer has the role that runs it. A key left behind is a credential nothing uses and
 * anyone on the host could (least privilege: a compute holds only Nova's key, a controller
 * only Glance's and Cinder's).
 */
export function unwantedKeyrings(topology: Topology, host: string): string[] {
  return CLIENTS.filter((c) => !clientHosts(topology, c).includes(host)).map((c) => clientKeyring(c.name));
}

async function present(ctx: StepContext): Promise<string[]> {
  const paths = unwantedKeyrings(ctx.topology, ctx.host.name);
  if (paths.length === 0) return [];
  const r = await ctx.run([
    "sh",
    "-c",
    'for f in "$@"; do [ -e "$f" ] && echo "$f"; done; true',
    "sh",
    ...paths,
  ]);
  return r.stdout.split("\n").filter((l) => l !== "");
}

export const staleKeysStep: StepSpec = {
  id: "stale-keys",
  title: "Remove OpenStack keyrings this host no longer needs (a disabled service's, another role's)",
  on: "each",
  async check(ctx) {
    const found = await present(ctx);
    if (found.length > 0 && ctx.dryRun) ctx.log.info(`would remove ${found.join(", ")}`);
    return found.length === 0;
  },
  async apply(ctx) {
    const found = await present(ctx);
    await ctx.run(["rm", "-f", "--", ...found]);
    ctx.log.info(`removed ${found.join(", ")}`);
  },
};
