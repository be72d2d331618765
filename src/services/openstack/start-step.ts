/**
 * @module
 * An OpenStack API started as data (`spec.start`): on every controller its units are enabled at
 * boot and started, then asked on the host's management address (where HAProxy's backends point)
 * until they give the status the API really answers there, unauthenticated.
 */
import { enabledOf, inactiveOf, startDeliberately, systemctl } from "../../hostkit/systemd.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLine } from "../../util/text.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { probeCommand } from "./health.ts";
import type { ApiAnswer, ApiStart } from "./spec.ts";

/** How long a started API may take to answer: Glance's workers import glance_store and rbd first. */
export const START_WAIT_MS = 180_000;

export function answerUrl(
  ctx: Pick<StepContext, "topology" | "host">,
  service: string,
  a: ApiAnswer,
): string {
  const port = ctx.topology.endpoints[a.endpoint]?.port;
  if (port === undefined)
    throw new HastackError("E_OPENSTACK_SPEC", `Cannot start ${service}: no endpoint ${a.endpoint}`, {
      hint: `${a.endpoint} must be one of ${service}'s endpoints`,
    });
  return `http://${ctx.host.ip}:${port}${a.path}`;
}

/** true, or what was answered instead and the state of each unit, for the wait's error. */
export async function answers(ctx: StepContext, service: string, start: ApiStart): Promise<true | string> {
  const url = answerUrl(ctx, service, start.answers);
  const r = await ctx.transport.exec(probeCommand(url), { timeoutMs: 15_000, signal: ctx.signal });
  const status = r.stdout.trim();
  if (r.code === 0 && status === String(start.answers.status)) return true;
  const said =
    r.code === 0 ? `HTTP ${status}` : `no answer (${lastLine(r.stderr) || `curl exit code ${r.code}`})`;
  const states: string[] = [];
  for (const unit of start.units) {
    const s = await ctx.transport.exec(["systemctl", "is-active", unit], { timeoutMs: 15_000 });
    states.push(`${unit} ${s.stdout.trim() || "unknown"}`);
  }
  return `${url} gave ${said}, not HTTP ${start.answers.status}; ${states.join(", ")}`;
}

export function startStep(service: string, start: ApiStart, hosts: string[], after: string[]): StepSpec {
  const { units } = start;
  return {
    id: "start",
    title: `Start ${units.join(" ")} at boot and now; wait for HTTP ${start.answers.status} at ${start.answers.path} on the management address`,
    on: "each",
    hosts,
    after,
    async check(ctx) {
      const on = await enabledOf(ctx.transport, units);
      if (on.length < units.length) return false;
      if ((await inactiveOf(ctx.transport, units)).length > 0) return false;
      const answer = await answers(ctx, service, start);
      if (answer !== true) ctx.log.info(answer);
      return answer === true;
    },
    async apply(ctx) {
      const on = await enabledOf(ctx.transport, units);
      const off = units.filter((u) => !on.includes(u));
      if (off.length > 0) await systemctl(ctx.transport, "enable", off);
      const stopped = await inactiveOf(ctx.transport, units);
      // A unit that failed before (its config not yet written) may have used up its start
      // budget: a start asked for on purpose is never refused for earlier ones.
      if (stopped.length > 0) await startDeliberately(ctx.transport, "start", stopped);
      await waitUntil(ctx, `get an answer from ${units.join(" ")}`, () => answers(ctx, service, start), {
        timeoutMs: START_WAIT_MS,
        intervalMs: 2000,
      });
    },
  };
}
