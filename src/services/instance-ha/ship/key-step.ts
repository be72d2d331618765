import { createHash } from "node:crypto";
import type { StepContext, StepSpec } from "../../types.ts";
import { AGENT_KEY_PATH, AGENT_UNIT, agentKeyText } from "../agent-files.ts";
import { restartRunning } from "./restart.ts";

const SIGNING_KEY = "instance_ha_signing_key";

function wanted(ctx: StepContext): string {
  return agentKeyText(ctx.secret(SIGNING_KEY), ctx.topology, ctx.host);
}

/**
 * Each compute's agent key, derived here from the site secret (which never leaves the deploying
 * machine) and compared by sha256 only: neither the key nor the secret is logged or read back.
 * A changed key restarts a running agent, which reads its key once, at start.
 */
export function agentKeyStep(hosts: string[], after: string[] = []): StepSpec {
  return {
    id: "agent-key",
    title: "write each compute's instance-HA agent key",
    on: "each",
    hosts,
    after,
    async check(ctx) {
      const found = (await ctx.transport.stat([AGENT_KEY_PATH])).get(AGENT_KEY_PATH);
      const sha256 = createHash("sha256").update(wanted(ctx)).digest("hex");
      return found?.sha256 === sha256 && found.mode === 0o600 && found.owner === "root";
    },
    async apply(ctx) {
      await ctx.transport.writeFile(AGENT_KEY_PATH, wanted(ctx), {
        owner: "root",
        group: "root",
        mode: 0o600,
      });
      await restartRunning(ctx, [AGENT_UNIT]);
    },
  };
}
