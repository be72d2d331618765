/**
 * @module
 * One evaluation's decisions (engine.ts calls it after feeding every host's signals): which
 * fence-worthy hosts the gates let the engine fence, which fenced hosts it may evacuate, and the
 * actions started for them. Every verdict, a refusal included, goes to the log and the history
 * with its reason; a refusal is said once until it changes.
 */
import type { QuorumVerdict } from "../hostkit/quorum.ts";
import { bounded, type EngineContext, say } from "./engine-deps.ts";
import { startEvacuation, startFence } from "./engine-steps.ts";
import { type ControlPlaneView, type Decision, decideEvacuation, decideFences } from "./gates.ts";
import { fenceWorthy, type HostState, type Phase } from "./host-state.ts";
import { type Clocks, decisionEvent } from "./store-mapping.ts";

/** What the gates see when the control plane's view could not be read in time: everything down. */
const DOWN: ControlPlaneView = {
  novaApi: false,
  novaScheduler: false,
  novaConductor: false,
  placement: false,
  database: false,
};

export async function decide(ctx: EngineContext, now: number, clocks: Clocks): Promise<void> {
  const { deps, settings, states, actions, fenceFailedAt, evacuationFailedAt } = ctx;
  // A host whose fence started but whose fence-started event is not consumed yet counts as fencing.
  const view = new Map(
    [...states].map(([h, s]): [string, HostState] => [
      h,
      actions.busy(h) === "fence" && s.phase === "failed" ? { ...s, phase: "fencing" } : s,
    ]),
  );
  const idle = (h: string) => actions.busy(h) === undefined && !actions.pending(h);
  const wantFence = [...view].some(([h, s]) => fenceWorthy(s) && idle(h));
  const stalled = (phases: Phase[]) =>
    [...view].filter(([h, s]) => phases.includes(s.phase) && idle(h)).map(([h]) => h);
  const toEvacuate = stalled(["fenced", "evacuating"]);
  const refence = stalled(["fencing"]);
  if (!wantFence && toEvacuate.length === 0 && refence.length === 0) return;
  const plane = await bounded(ctx, "the control-plane view", deps.controlPlane(), DOWN);

  const fenceDecisions: Decision[] = wantFence
    ? decideFences({ states: view, controlPlane: plane, now, settings })
    : [];
  for (const h of refence)
    fenceDecisions.push({
      host: h,
      act: !settings.dry_run,
      ...(settings.dry_run ? { gate: "dry-run" as const } : {}),
      reason: `${h} was being fenced before a takeover: fence again`,
    });
  let quorum: QuorumVerdict | undefined;
  for (const d of fenceDecisions) {
    if (!idle(d.host) && !refence.includes(d.host)) continue;
    let verdict = d;
    const failedAt = fenceFailedAt.get(d.host);
    if (d.act && failedAt !== undefined && now - failedAt < settings.fence_backoff_s * 1000) {
      verdict = {
        host: d.host,
        act: false,
        gate: "backoff",
        // Worded without the time elapsed, so it is recorded once per backoff, not every second.
        reason: `not fencing ${d.host} again yet: its last fence failed, the next attempt waits ${settings.fence_backoff_s} s`,
      };
    }
    if (verdict.act) {
      quorum ??= await bounded(ctx, "the quorum", deps.quorate(), {
        quorate: false,
        reason: "the quorum is unknown",
      });
      if (!quorum.quorate) {
        verdict = {
          host: d.host,
          act: false,
          gate: "quorum",
          reason: `not fencing ${d.host}: no quorum: ${quorum.reason}`,
        };
        say(
          ctx,
          `${d.host}/quorum-alert`,
          { at: clocks.wall, host: d.host, kind: "alert", detail: verdict.reason },
          "warn",
        );
      }
    }
    say(ctx, `${d.host}/fence-gate`, decisionEvent(verdict, clocks.wall), verdict.act ? "info" : "warn");
    if (verdict.act) startFence(ctx, d.host, clocks, refence.includes(d.host));
  }

  for (const h of toEvacuate) {
    const threw = evacuationFailedAt.get(h);
    const threwAt = threw !== undefined && Number.isNaN(threw) ? now : threw;
    if (threwAt !== undefined) evacuationFailedAt.set(h, threwAt);
    if (threwAt !== undefined && now - threwAt < settings.fence_backoff_s * 1000) continue;
    const d = decideEvacuation(h, plane, settings);
    say(ctx, `${h}/evacuation-gate`, decisionEvent(d, clocks.wall), d.act ? "info" : "warn");
    if (d.act) startEvacuation(ctx, h, clocks, states.get(h)?.phase === "evacuating");
  }
}
