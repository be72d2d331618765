/**
 * @module
 * The engine's actions, each started without waiting and fed back as events (engine-actions.ts):
 * the fence, the evacuation after it, re-enabling a host that is back, and the BMC power reads
 * that tell a dead host from a hung one. Each catches its own failures: an action that throws
 * must leave the host where the state machine can take it up again, never stop the loop.
 */

import { bounded, type EngineContext, say } from "./engine-deps.ts";
import type { FenceResult } from "./fence.ts";
import type { PowerState } from "./host-state.ts";
import type { FenceStep } from "./respond.ts";
import type { Clocks } from "./store-mapping.ts";

export function startReenable(ctx: EngineContext, host: string, leaveDisabled: boolean): void {
  ctx.actions.start(host, "reenable", async () => {
    await ctx.deps.reenable(host, leaveDisabled).then(
      () =>
        say(ctx, `${host}/reenable`, {
          at: ctx.wall(),
          host,
          kind: "operator",
          detail: `${host}: nova-compute ${leaveDisabled ? "back, left disabled" : "re-enabled"}`,
        }),
      (e: unknown) =>
        say(
          ctx,
          `${host}/reenable`,
          { at: ctx.wall(), host, kind: "alert", detail: `${host}: cannot re-enable: ${String(e)}` },
          "warn",
        ),
    );
    return [];
  });
}

export function startPowerRead(ctx: EngineContext, host: string): void {
  ctx.actions.start(host, "power", async () => {
    const state = await bounded(ctx, `power state of ${host}`, ctx.deps.power(host), "unknown" as PowerState);
    if (ctx.states.get(host)?.phase !== "healthy") ctx.powers.set(host, state);
    return [];
  });
}

export function startFence(ctx: EngineContext, host: string, clocks: Clocks, resumed: boolean): void {
  const started = ctx.actions.start(host, "fence", async () => {
    const step = await ctx.deps.respond.fence(host).catch(
      (e: unknown): FenceStep => ({
        fence: { ok: false, detail: `Cannot fence ${host}: ${String(e)}`, ms: 0, attempts: [] },
        evacuable: false,
        detail: `Cannot fence ${host}: ${String(e)}`,
        timeline: [],
      }),
    );
    ctx.history.record({
      at: ctx.wall(),
      host,
      kind: "fence",
      detail: step.detail,
      data: {
        ok: step.evacuable,
        ms: step.fence.ms,
        ...(step.fence.ok ? { method: step.fence.method } : {}),
      },
    });
    ctx.log[step.evacuable ? "info" : "warn"]({ host }, step.detail);
    if (step.evacuable && step.fence.ok) {
      ctx.fences.set(host, step.fence);
      return [{ kind: "fence-confirmed", method: step.fence.method }];
    }
    return [{ kind: "fence-failed", detail: step.detail }];
  });
  if (started && !resumed) ctx.actions.queue(host, { kind: "fence-started" });
  if (started) ctx.history.record({ at: clocks.wall, host, kind: "fence", detail: `fencing ${host}` });
}

export function startEvacuation(ctx: EngineContext, host: string, clocks: Clocks, resumed: boolean): void {
  const method = ctx.states.get(host)?.fenceMethod ?? "power";
  const confirmed: FenceResult = ctx.fences.get(host) ?? {
    ok: true,
    method,
    detail: `${host} was fenced (${method}) before a takeover`,
    ms: 0,
    attempts: [],
  };
  const started = ctx.actions.start(host, "evacuate", async () => {
    try {
      const report = await ctx.deps.respond.evacuate(host, confirmed, ctx.episodes.get(host));
      const failed = (report.evacuation?.failed ?? 0) + report.plan.unplaced.length;
      // Named in the entry (and so in the alert): the operator's next move is about these VMs.
      const left = (report.evacuation?.servers ?? []).filter(
        (s) => s.status === "failed" || s.reason?.startsWith("no room"),
      );
      const named = left.slice(0, 5).map((s) => `${s.name || s.id} (${s.id}): ${s.reason ?? s.status}`);
      if (left.length > named.length)
        named.push(`${left.length - named.length} more in \`hastack ha status\``);
      ctx.history.record({
        at: ctx.wall(),
        host,
        kind: "evacuation",
        detail: `${host}: ${report.outcome}, ${failed} VM(s) not evacuated${named.length ? `: ${named.join("; ")}` : ""}`,
        data: { outcome: report.outcome, failed },
      });
      return [{ kind: "evacuation-finished", failed }];
    } catch (e) {
      // Left in `evacuating`: driven again after the backoff (none is evacuated twice).
      ctx.evacuationFailedAt.set(host, Number.NaN);
      say(
        ctx,
        `${host}/evacuate-error`,
        { at: ctx.wall(), host, kind: "alert", detail: `${host}: evacuation stopped: ${String(e)}` },
        "warn",
      );
      return [];
    }
  });
  if (started && !resumed) ctx.actions.queue(host, { kind: "evacuation-started" });
  if (started)
    ctx.history.record({
      at: clocks.wall,
      host,
      kind: "evacuation",
      detail: `evacuating ${host}${resumed ? " (driven again)" : ""}`,
    });
}
