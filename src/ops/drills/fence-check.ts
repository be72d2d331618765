import { lastLines } from "../../util/text.ts";
import { fencedInHistory, holderOf, powerBack, sqlWriter, survivorOf, waitRejoined } from "./host-ops.ts";
import type { DrillContext, DrillDef, DrillFinding, Injected } from "./types.ts";

/**
 * The controller to fence: one that holds neither the VIP nor the SQL writes, so the check
 * proves fencing without causing an outage; on a smaller cluster, whichever is left.
 */
async function pickTarget(ctx: DrillContext): Promise<string> {
  const holder = await holderOf(ctx);
  const controllers = ctx.topology.roles.controller;
  const quiet = controllers.filter((h) => h !== holder && h !== sqlWriter(ctx));
  return quiet.at(-1) ?? controllers.find((h) => h !== holder) ?? holder;
}

/**
 * Fences one controller for real, through Pacemaker's own fencer (stonith_admin, the path a
 * failover takes), confirms with its BMC that it is off, then brings it back and waits until it
 * is a cluster member again. A fence device that cannot fence is found here, not in a failover.
 */
export const fenceCheck: DrillDef = {
  id: "fence-check",
  title: "Fence one controller through Pacemaker and bring it back",
  probe: "sql-read",
  // The target holds no VIP and takes no writes: the service should not notice.
  outage: false,
  goalMs: () => 1000,
  async inject(ctx): Promise<Injected> {
    const target = await pickTarget(ctx);
    const fencer = survivorOf(ctx, target);
    const findings: DrillFinding[] = [];
    const started = performance.now();
    const fence = await ctx.pool
      .get(fencer)
      .exec(["stonith_admin", "--fence", target, "--timeout", "90"], { timeoutMs: 120_000 })
      .catch((error: Error) => ({ code: -1, stdout: "", stderr: error.message }));
    ctx.timing("fence (stonith_admin --fence)", performance.now() - started);
    if (fence.code !== 0) {
      findings.push({
        severity: "failed",
        message: `Cannot fence ${target} from ${fencer}: stonith_admin exited with code ${fence.code}: ${lastLines(fence.stderr || fence.stdout, 2)}`,
      });
    } else {
      const power = await ctx.injector.powerStatus(target).catch((error: Error) => error.message);
      ctx.timing("power off confirmed by its BMC", performance.now() - started);
      // Pacemaker believing a node is off while it still runs is the split brain fencing exists to prevent.
      if (power !== "off")
        findings.push({
          severity: "unsafe",
          message: `the fence of ${target} reported success but its BMC says power ${power}`,
        });
    }
    return {
      target,
      action: `fenced ${target} through Pacemaker (stonith_admin on ${fencer})`,
      findings,
      restore: async () => {
        const back = performance.now();
        await powerBack(ctx, target);
        ctx.timing("powered on, cluster stack started", performance.now() - back);
        const rejoined = await waitRejoined(ctx, target);
        ctx.timing("rejoined the cluster", performance.now() - back);
        ctx.log(
          `${target} is online in Pacemaker again ${(rejoined / 1000).toFixed(2)} s after its stack started`,
        );
      },
    };
  },
  async verify(ctx, injected) {
    const findings = [...(injected.findings ?? [])];
    if (findings.length === 0 && !(await fencedInHistory(ctx, injected.target)))
      findings.push({
        severity: "failed",
        message: `no successful fence of ${injected.target} in the history`,
      });
    return findings;
  },
};
