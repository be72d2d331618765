import { allRunning, isEnabled, systemctl } from "../../hostkit/systemd.ts";
import type { StepSpec } from "../types.ts";
import { AGENT_UNIT } from "./agent-files.ts";

const UNIT = AGENT_UNIT.replace(/\.service$/, "");

/**
 * The agent runs on every compute and starts at boot: a compute that comes back from a fence
 * must be heard again without a hand, or the engine never re-enables it. A changed config or
 * program restarts it through the files' restart and the program step.
 */
export function agentRunningStep(hosts: string[], after: string[]): StepSpec {
  return {
    id: "agent-running",
    title: `${AGENT_UNIT} enabled at boot and running on every compute`,
    on: "each",
    hosts,
    after,
    async check(ctx) {
      return (await isEnabled(ctx.transport, UNIT)) && (await allRunning(ctx.transport, [UNIT]));
    },
    async apply(ctx) {
      await systemctl(ctx.transport, "enable", [UNIT], { now: true, signal: ctx.signal });
    },
  };
}
