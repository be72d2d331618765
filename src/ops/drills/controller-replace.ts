/**
 * @module
 * `controller-replace` (issue #11): a controller's disk dies. It goes dark at once (powered off
 * through its BMC, as a dead disk usually ends), the cluster fences it, it is reinstalled empty
 * (the lab erases its disk; a real site's provisioning does this), and `hastack deploy` brings it
 * back: Pacemaker, Galera by SST, RabbitMQ (the old node forgotten, the quorum queues' replicas
 * back), etcd (the old member replaced), OVN's Raft clusters (the old servers kicked). Then every
 * cluster must be exactly the controllers, none listed twice, none missing (members.ts). The SQL
 * write probe runs throughout, and the runner checks every acknowledged write is still there.
 */
import { galeraSettings } from "../../services/galera/settings.ts";
import { HastackError } from "../../util/errors.ts";
import { holderOf, sqlWriter, waitFenceSettled } from "./host-ops.ts";
import { membershipProblems } from "./members.ts";
import type { DrillContext, DrillDef, DrillFinding, Injected } from "./types.ts";

/** What an SST of the lab's site, a deploy of one host and the joins took, with room (seconds). */
const REPLACE_BUDGET_MS = 900_000;

/** The controller that holds neither the VIP nor the SQL writes: its loss interrupts nothing. */
async function pickTarget(ctx: DrillContext): Promise<string> {
  const holder = await holderOf(ctx);
  const quiet = ctx.topology.roles.controller.filter((h) => h !== holder && h !== sqlWriter(ctx));
  const target = quiet.at(-1);
  if (!target)
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      "Cannot start controller-replace: no controller holds neither the VIP nor the SQL writes (it needs 3 or more)",
    );
  return target;
}

export const controllerReplace: DrillDef = {
  id: "controller-replace",
  title: "A controller's disk dies: fenced, reinstalled empty, hastack deploy brings it back",
  probe: "sql-write",
  // The target holds no VIP and takes no writes, yet a member that vanishes stalls Galera's
  // commits until the group suspects it (evs.suspect_timeout): 4.1 s measured on the lab.
  outage: false,
  goalMs: (t) => galeraSettings(t).evs_suspect_timeout_s * 1000 + 1000,
  async inject(ctx): Promise<Injected> {
    const { reinstall } = ctx.injector;
    if (!reinstall || !ctx.deploy)
      throw new HastackError(
        "E_DRILL_INJECT",
        "Cannot run controller-replace here: it needs a host it can erase and reinstall (the lab's)",
        { hint: "on real hosts: reinstall the controller from your provisioning, then run `hastack deploy`" },
      );
    const target = await pickTarget(ctx);
    const t0 = performance.now();
    const since = () => performance.now() - t0;
    const faultAt = Date.now();
    await ctx.injector.powerOff(target);
    ctx.timing(`${target} powered off (its disk died)`, since());
    await waitFenceSettled(ctx, target, faultAt);
    ctx.timing("the cluster's fence of it settled", since());
    await reinstall(target);
    ctx.timing(`${target} reinstalled empty, answering SSH`, since());
    const findings: DrillFinding[] = [];
    const run = await ctx.deploy();
    ctx.timing(`hastack deploy ${run.ok ? "done" : "failed"}`, since());
    if (!run.ok)
      findings.push({ severity: "failed", message: `hastack deploy ${run.runId} failed (its log is above)` });
    if (since() > REPLACE_BUDGET_MS)
      findings.push({
        severity: "failed",
        message: `the replacement took ${(since() / 1000).toFixed(0)} s, over its ${REPLACE_BUDGET_MS / 1000} s budget`,
      });
    return {
      target,
      action: `powered ${target} off, erased and reinstalled it, then hastack deploy`,
      findings,
      // The target runs again (deploy started it); what is still wrong shows in verify and status.
      restore: async () => undefined,
    };
  },
  async verify(ctx, injected) {
    const found = [...(injected.findings ?? [])];
    const problems = await membershipProblems(ctx);
    for (const p of problems) found.push({ severity: "failed", message: `left behind: ${p}` });
    if (problems.length === 0) ctx.log("every cluster is exactly the controllers: no member left behind");
    return found;
  },
};
