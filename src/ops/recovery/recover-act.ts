/**
 * @module
 * `hastack recover` acting: read the state, show the plan, get the operator's go-ahead, read the
 * state again and refuse if the plan it gives is not the one confirmed (a node came back, a seqno
 * moved, a BMC answered), then act, every action journalled, and finally read the state once
 * more and show it. Two tracks run side by side, as neither waits for the other's daemons:
 * Galera then Pacemaker (its resources include the instance-HA engine, which needs the
 * database), and RabbitMQ; corosync, which runs no resource, starts at once beside them. On the lab they took 40 s, 26 s and 45 s one after the
 * other (131 s in all against issue #11's 90 s). A failing step stops its own track; the other
 * finishes what it started, and the next run reads the state both left and plans from there.
 */
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { actGalera } from "./act-galera.ts";
import type { RecoverJournal } from "./act-journal.ts";
import { actRabbitmq } from "./act-rabbitmq.ts";
import { type ActContext, type ActTiming, DEFAULT_TIMING } from "./act-step.ts";
import type { RecoveryFacts } from "./collect.ts";
import { confirmationMissing } from "./confirm.ts";
import { planKey, planSummary } from "./plan-key.ts";
import { RECOVER_EXIT, type RecoverReport, recoverReport, recoverText } from "./recover-report.ts";
import { startMembership, startPacemaker } from "./stack.ts";

export interface RecoverActInput {
  /** Reads every fact afresh (collect.ts over the pool). */
  collect(): Promise<RecoveryFacts>;
  transport(host: string): Transport;
  journal: RecoverJournal;
  /** --yes: go ahead without asking. */
  yes: boolean;
  /** Asks the operator about the plan shown; undefined when there is no terminal to ask on. */
  ask?: (report: RecoverReport) => Promise<boolean>;
  print(text: string): void;
  timing?: Partial<ActTiming>;
}

/** Refusals: recover exits 3 for these, as for a plan that refuses. */
export const REFUSAL_CODES: readonly string[] = ["E_RECOVER_CONFIRM", "E_RECOVER_PLAN_CHANGED"];

export function isRefusal(error: unknown): error is HastackError {
  return error instanceof HastackError && REFUSAL_CODES.includes(error.code);
}

/** The exit code: 0 recovered (or nothing to do), 2 more to do, 3 refused. Throws on a failure. */
export async function recoverAct(input: RecoverActInput): Promise<number> {
  const ask = input.ask;
  // Before any host is asked: reading the state runs --wsrep-recover, not for a run that cannot act.
  if (!input.yes && ask === undefined) throw confirmationMissing();
  const first = await input.collect();
  const shown = recoverReport(first);
  input.print(recoverText(shown, "act"));
  if (shown.verdict !== "recovery-needed") return shown.exitCode;
  if (!input.yes && !(await ask?.(shown)))
    throw new HastackError("E_RECOVER_CONFIRM", "Cannot recover: the plan was not confirmed", {
      hint: "type the site name exactly as the inventory's cluster: names it, or use --yes",
    });

  // With --yes the plan was computed a moment ago and nobody read it: reading it again (every
  // stopped node's --wsrep-recover) would only cost time.
  const facts = input.yes ? first : await input.collect();
  const now = input.yes ? shown : recoverReport(facts);
  if (planKey(now) !== planKey(shown))
    throw planChanged(input, `confirmed "${planSummary(shown)}", now "${planSummary(now)}"`);

  const ctx: ActContext = {
    transport: input.transport,
    journal: input.journal,
    timing: { ...DEFAULT_TIMING, ...input.timing },
  };
  input.journal.write({ type: "recover-start", plan: planSummary(now) });
  try {
    // corosync needs neither Galera nor RabbitMQ: its membership forms while they recover.
    const membership = startMembership(now.stack, ctx);
    const tracks = await Promise.allSettled([
      membership,
      (async () => {
        await actGalera(now.galera, facts.galera, ctx);
        await membership;
        await startPacemaker(now.stack, ctx);
      })(),
      actRabbitmq(now.rabbitmq, facts.rabbitmq, ctx),
    ]);
    for (const track of tracks) if (track.status === "rejected") throw track.reason;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    input.journal.write({ type: "recover-end", status: "failed", error: message });
    if (!(error instanceof HastackError)) throw error;
    throw new HastackError(error.code, error.message, {
      cause: error,
      hint: `that track of the recovery stopped there (the other one, Galera or RabbitMQ, ran to its end); ${input.journal.path} lists what was done. Run hastack recover --dry-run to see the state it left`,
    });
  }
  input.journal.write({ type: "recover-end", status: "ok" });

  const after = recoverReport(await input.collect());
  input.print(`\nAfter the recovery:\n\n${recoverText(after, "after")}`);
  return after.verdict === "nothing-to-do" ? RECOVER_EXIT["nothing-to-do"] : after.exitCode;
}

function planChanged(input: RecoverActInput, what: string): HastackError {
  const reason = `the state changed since the plan was shown: ${what}`;
  input.journal.write({ type: "refused", code: "E_RECOVER_PLAN_CHANGED", reason });
  return new HastackError("E_RECOVER_PLAN_CHANGED", `Cannot recover: ${reason}`, {
    hint: "nothing was changed: run hastack recover again to see the new plan",
  });
}
