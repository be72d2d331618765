/**
 * @module
 * The computes' side of Neutron: the OVN metadata agent running (it serves guests'
 * 169.254.169.254 through one haproxy per network), and each compute's chassis registered in the
 * southbound database, which is what Neutron binds ports to.
 */
import { enabledOf, inactiveOf, startDeliberately, systemctl } from "../../hostkit/systemd.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { chassisListCommand, parseChassisNames } from "./chassis.ts";

export const METADATA_AGENT_UNITS = ["neutron-ovn-metadata-agent.service"];
/** ovn-controller registers its chassis within seconds of reaching a southbound server. */
const REGISTER_WAIT_MS = 120_000;

/** The chassis names the southbound database lists, asked from this host. */
export async function registeredChassis(ctx: StepContext): Promise<string[]> {
  const r = await ctx.run(chassisListCommand(ctx.topology), { timeoutMs: 30_000 });
  return parseChassisNames(ctx.transport, r.stdout);
}

async function problems(ctx: StepContext): Promise<string[]> {
  const out: string[] = [];
  const on = await enabledOf(ctx.transport, METADATA_AGENT_UNITS);
  out.push(...METADATA_AGENT_UNITS.filter((u) => !on.includes(u)).map((u) => `${u} not enabled`));
  out.push(...(await inactiveOf(ctx.transport, METADATA_AGENT_UNITS)).map((u) => `${u} not running`));
  const chassis = await registeredChassis(ctx).catch((e: unknown) => [
    `(${e instanceof Error ? e.message : String(e)})`,
  ]);
  if (!chassis.includes(ctx.host.name))
    out.push(
      `chassis ${ctx.host.name} not in the southbound database (it lists ${chassis.join(", ") || "none"})`,
    );
  return out;
}

export function agentsStep(hosts: string[]): StepSpec {
  return {
    id: "agents",
    title:
      "The OVN metadata agent running on each compute, and its chassis registered in OVN's southbound database",
    on: "each",
    hosts,
    timeoutMs: REGISTER_WAIT_MS + 120_000,
    async check(ctx) {
      const found = await problems(ctx);
      if (found.length > 0) ctx.log.info(found.join("; "));
      return found.length === 0;
    },
    async apply(ctx) {
      const on = await enabledOf(ctx.transport, METADATA_AGENT_UNITS);
      if (on.length < METADATA_AGENT_UNITS.length)
        await systemctl(ctx.transport, "enable", METADATA_AGENT_UNITS);
      const stopped = await inactiveOf(ctx.transport, METADATA_AGENT_UNITS);
      if (stopped.length > 0) await startDeliberately(ctx.transport, "start", stopped);
      await waitUntil(
        ctx,
        "see this compute's chassis and metadata agent",
        async () => {
          const found = await problems(ctx);
          return found.length === 0 ? true : found.join("; ");
        },
        { timeoutMs: REGISTER_WAIT_MS, intervalMs: 3000 },
      );
    },
  };
}
