import { isActive, startDeliberately } from "../../../hostkit/systemd.ts";
import type { StepContext } from "../../types.ts";

/**
 * Restarts those of `units` that are running, so they pick up what a step changed; a unit not
 * running is left alone. The first start belongs to the unit's own step (unitsRunning), after
 * its unit file and config exist; and a unit Pacemaker runs (the engine) must not be listed:
 * a restart behind Pacemaker's back is a failed monitor to it.
 */
export async function restartRunning(ctx: StepContext, units: readonly string[]): Promise<string[]> {
  const running: string[] = [];
  for (const unit of units) if (await isActive(ctx.transport, unit)) running.push(unit);
  if (running.length > 0) await startDeliberately(ctx.transport, "restart", running);
  return running;
}
