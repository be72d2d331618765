/**
 * @module
 * `power-loss` (issue #11): every controller's power cut at once, as a site power loss does, held
 * a few seconds, then all powered on; then what the operator runs after it, `hastack recover
 * --yes`, in rounds until it says there is nothing left to do. The cluster stack does not start
 * at boot by design (E19: a fenced node stays down until someone looks), so without recover the
 * VIP never comes back; Galera may restore its Primary Component by itself (gvwstate.dat) or
 * need its most advanced node bootstrapped, which recover decides. The SQL write probe through
 * the VIP measures the outage, and the runner checks that every write it acknowledged before
 * the cut is still there afterwards.
 */
import { HastackError } from "../../util/errors.ts";
import { lastLines } from "../../util/text.ts";
import type { RecoverJournal } from "../recovery/act-journal.ts";
import { collectRecoveryFacts } from "../recovery/collect.ts";
import { recoverAct } from "../recovery/recover-act.ts";
import { RECOVER_EXIT } from "../recovery/recover-report.ts";
import type { DrillContext, DrillDef, DrillFinding, Injected } from "./types.ts";

/** How long the power stays off: long enough that nothing survives on capacitors or caches. */
export const HOLD_MS = 10_000;
/** The budget from power-on to SQL writes through the VIP, as issue #11 asks of recover (90 s). */
export const RECOVER_BUDGET_MS = 90_000;
/** Rounds of recover before the drill gives up (each waits for its own steps). */
const ROUNDS = 6;
const BOOT_MS = 180_000;

export const powerLoss: DrillDef = {
  id: "power-loss",
  title: "Cut every controller's power at once, all back, hastack recover",
  probe: "sql-write",
  goalMs: () => HOLD_MS + RECOVER_BUDGET_MS,
  async inject(ctx): Promise<Injected> {
    const hosts = ctx.topology.roles.controller;
    const findings = await cutAndRecover(ctx, hosts, "all controllers on");
    return {
      target: hosts.join(", "),
      action: `cut the power of ${hosts.join(", ")} at once through their BMCs, ${HOLD_MS / 1000} s off, all on, then hastack recover --yes`,
      findings,
      // Everything is back on by now; a host recover could not bring back shows in status.
      restore: async () => undefined,
    };
  },
  async verify(_ctx, injected) {
    // What recover said during the injection: a refusal or a failed step fails the drill.
    return injected.findings ?? [];
  },
};

/**
 * Every controller's power cut at once through its BMC, HOLD_MS off, then `back` powered on;
 * once they answer SSH, hastack recover in rounds. Each stage timed; recover's findings.
 */
export async function cutAndRecover(
  ctx: DrillContext,
  back: string[],
  onLabel: string,
): Promise<DrillFinding[]> {
  const t0 = performance.now();
  const since = (from: number) => performance.now() - from;
  await Promise.all(ctx.topology.roles.controller.map((h) => ctx.injector.powerOff(h)));
  ctx.timing("all controllers off", since(t0));
  await new Promise((r) => setTimeout(r, HOLD_MS));
  await Promise.all(back.map((h) => ctx.injector.powerOn(h)));
  const on = performance.now();
  ctx.timing(onLabel, since(t0));
  await Promise.all(back.map((h) => answersSsh(ctx, h, on)));
  ctx.timing("SSH answers, after power-on", since(on));
  const findings = await recoverInRounds(ctx, on);
  ctx.timing(`hastack recover ${findings.length === 0 ? "done" : "gave up"}, after power-on`, since(on));
  return findings;
}

export async function answersSsh(ctx: DrillContext, host: string, since: number): Promise<void> {
  let last = "no answer";
  while (performance.now() - since < BOOT_MS) {
    const r = await ctx.pool
      .get(host)
      .exec(["true"], { timeoutMs: 5_000 })
      .catch((error: unknown) => {
        last = error instanceof Error ? error.message : String(error);
        return undefined;
      });
    if (r?.code === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new HastackError(
    "E_DRILL_INJECT",
    `Cannot bring ${host} back: it did not answer over SSH within ${BOOT_MS / 1000} s of its power-on: ${last}`,
  );
}

/** recover's journal as the drill's log: each step done, failed or waited for, seconds after power-on. */
function timeline(ctx: DrillContext, on: number): RecoverJournal {
  return {
    path: "(the drill's log)",
    write(e) {
      const at = `${((performance.now() - on) / 1000).toFixed(1)} s`;
      if (e.type === "action" && e.status !== "started")
        ctx.log(`  recover @${at}: ${e.step} on ${e.host} ${e.status}${e.error ? `: ${e.error}` : ""}`);
      if (e.type === "wait") ctx.log(`  recover @${at}: ${e.step} on ${e.host} ${e.status} (${e.seen})`);
    },
  };
}

/**
 * recover --yes until it reports nothing to do (exit 0), as an operator re-runs it while it says
 * more is to come (exit 2). A refusal (3) or a failed step ends the drill's recovery: a finding.
 */
export async function recoverInRounds(ctx: DrillContext, on: number): Promise<DrillFinding[]> {
  const input = {
    collect: () =>
      collectRecoveryFacts({
        topology: ctx.topology,
        transport: ctx.pool.get,
        secret: (name: string) => ctx.secrets[name],
      }),
    transport: ctx.pool.get,
    journal: timeline(ctx, on),
    yes: true,
    print: (text: string) => {
      for (const line of text.trimEnd().split("\n")) ctx.log(`  recover: ${line}`);
    },
  };
  for (let round = 1; round <= ROUNDS; round++) {
    let code: number;
    try {
      code = await recoverAct(input);
    } catch (error) {
      const message = error instanceof Error ? lastLines(error.message, 2) : String(error);
      return [{ severity: "failed", message: `hastack recover failed in round ${round}: ${message}` }];
    }
    ctx.timing(`recover round ${round} (exit ${code}), after power-on`, performance.now() - on);
    if (code === RECOVER_EXIT["nothing-to-do"]) return [];
    if (code === RECOVER_EXIT.refused)
      return [
        { severity: "failed", message: `hastack recover refused in round ${round} (its plan is in the log)` },
      ];
    await new Promise((r) => setTimeout(r, 5000));
  }
  return [{ severity: "failed", message: `hastack recover still had work to do after ${ROUNDS} rounds` }];
}
