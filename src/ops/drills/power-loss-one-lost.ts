/**
 * @module
 * `power-loss-one-lost` (issue #11): every controller's power cut at once, and one of them does
 * not come back (its power supply died with the cut). The two that do wait for the missing
 * member forever: Galera has no Primary Component, RabbitMQ no majority, so the site stays down
 * until someone acts. `hastack recover --yes` is that someone: the lost controller's BMC says it
 * is off, so recover may bootstrap Galera from the more advanced of the two and bring RabbitMQ
 * back on them. The SQL write probe through the VIP measures the outage. Afterwards the lost
 * controller is powered on: it rejoins Galera and RabbitMQ by itself, and recover starts its
 * cluster stack (off at boot by design, E19); the site must end healthy with every write kept.
 */
import { answersSsh, cutAndRecover, HOLD_MS, RECOVER_BUDGET_MS, recoverInRounds } from "./power-loss.ts";
import type { DrillDef, Injected } from "./types.ts";

export const powerLossOneLost: DrillDef = {
  id: "power-loss-one-lost",
  title: "Cut every controller's power at once, one never back, hastack recover on the others",
  probe: "sql-write",
  goalMs: () => HOLD_MS + RECOVER_BUDGET_MS,
  async inject(ctx): Promise<Injected> {
    const hosts = ctx.topology.roles.controller;
    // The last controller: neither the SQL writer nor the bootstrap host, so recover has to
    // pick its Galera node from the facts, not from the inventory's order.
    const lost = hosts.at(-1) as string;
    const back = hosts.filter((h) => h !== lost);
    const findings = await cutAndRecover(ctx, back, `${back.join(", ")} on (${lost} stays off)`);
    return {
      target: lost,
      action: `cut the power of ${hosts.join(", ")} at once through their BMCs, ${HOLD_MS / 1000} s off, ${back.join(", ")} on, ${lost} left off, then hastack recover --yes`,
      findings,
      restore: async () => {
        const at = performance.now();
        const since = () => performance.now() - at;
        await ctx.injector.powerOn(lost);
        await answersSsh(ctx, lost, at);
        ctx.timing(`${lost} powered on later, answering SSH`, since());
        // Galera and RabbitMQ rejoin by themselves; its cluster stack waits for an operator
        // (E19), which recover is.
        const late = await recoverInRounds(ctx, at);
        ctx.timing(`hastack recover for ${lost} ${late.length === 0 ? "done" : "gave up"}`, since());
        if (late.length > 0) throw new Error(late.map((f) => f.message).join("; "));
      },
    };
  },
  async verify(_ctx, injected) {
    return injected.findings ?? [];
  },
};
