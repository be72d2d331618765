/**
 * @module
 * The last instance-HA step on the controllers: the engine runs (Pacemaker's resource started
 * somewhere) and runs what was deployed (it started after its config, secrets and program last
 * changed on its node). The files' own restart cannot do this: `systemctl restart` on every
 * controller would start three engines. Pacemaker restarts the one there is; a resource that
 * failed to start (before its database or Keystone user existed, say) is cleaned up, so
 * Pacemaker tries again.
 */
import { ENGINE_CONFIG_PATH, ENGINE_SECRETS_PATH } from "../../instance-ha/daemon/config.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { ENGINE_RESOURCE, ENGINE_UNIT } from "./engine-files.ts";

/** `crm_resource --locate`: "resource hastack-engine is running on: ctl1". */
export function parseLocate(stdout: string): string | undefined {
  return /is running on:\s*(\S+)/.exec(stdout)?.[1];
}

async function where(ctx: StepContext): Promise<string | undefined> {
  const r = await ctx.transport.exec(["crm_resource", "--locate", "--resource", ENGINE_RESOURCE], {
    timeoutMs: 30_000,
  });
  return r.code === 0 ? parseLocate(r.stdout) : undefined;
}

/** Seconds since the epoch: when the unit last started, and when its newest input changed. */
async function staleness(ctx: StepContext, node: string, inputs: readonly string[]) {
  const t = ctx.peer(node);
  const started = await t.exec(["systemctl", "show", ENGINE_UNIT, "-p", "ActiveEnterTimestamp", "--value"]);
  const since = await t.exec(["date", "-d", started.stdout.trim() || "@0", "+%s"]);
  const changed = await t.exec(["stat", "-c", "%Y", ...inputs]);
  const newest = Math.max(0, ...changed.stdout.split("\n").filter(Boolean).map(Number));
  return { startedAt: Number(since.stdout.trim()), newest };
}

export function engineRunningStep(inputs: readonly string[], after: string[]): StepSpec {
  const files = [ENGINE_CONFIG_PATH, ENGINE_SECRETS_PATH, ...inputs];
  /** True when it runs what was deployed; else why not. */
  async function current(ctx: StepContext): Promise<true | string> {
    const node = await where(ctx);
    if (!node) return `${ENGINE_RESOURCE} is not running`;
    const { startedAt, newest } = await staleness(ctx, node, files);
    return startedAt >= newest || `${ENGINE_RESOURCE} on ${node} started before its files last changed`;
  }
  return {
    id: "engine-running",
    title: `Pacemaker runs ${ENGINE_RESOURCE} on one controller, started after its config and program last changed`,
    on: "bootstrap",
    after,
    async check(ctx) {
      const now = await current(ctx);
      if (now !== true) ctx.log.info(now);
      return now === true;
    },
    async apply(ctx) {
      const node = await where(ctx);
      // --restart stops and starts it where it runs; --cleanup forgets failed starts, and
      // Pacemaker then places it again.
      if (node)
        await ctx.run(["crm_resource", "--restart", "--resource", ENGINE_RESOURCE], { timeoutMs: 180_000 });
      else await ctx.run(["crm_resource", "--cleanup", "--resource", ENGINE_RESOURCE], { timeoutMs: 60_000 });
      // Until it runs again, started after its files: right after --restart it may still be
      // starting (no start time yet), and the check would count that as stale.
      await waitUntil(ctx, `see Pacemaker run ${ENGINE_RESOURCE} anew`, () => current(ctx), {
        timeoutMs: 120_000,
        intervalMs: 2000,
      });
    },
  };
}
