/**
 * @module
 * What `hastack recover --dry-run` prints and exits with, from the collected facts: both
 * decisions, the controllers that did not answer and why, what the collection found on the way,
 * then the plan text. One verdict for the whole site: a refusal of either half refuses all, as
 * the plan text says.
 */
import type { RecoveryFacts } from "./collect.ts";
import { type GaleraPlan, galeraPlan } from "./galera-plan.ts";
import { planText } from "./plan-text.ts";
import { type RabbitPlan, rabbitmqPlan } from "./rabbitmq-plan.ts";
import { type StackPlan, stackPlan, stackText } from "./stack.ts";
import type { PowerFacts } from "./types.ts";

export type Verdict = "nothing-to-do" | "recovery-needed" | "refused";

/** Exit codes of `hastack recover`; 1 stays an error (no plan), as for every verb. */
export const RECOVER_EXIT: Readonly<Record<Verdict, number>> = {
  "nothing-to-do": 0,
  "recovery-needed": 2,
  refused: 3,
};

export interface RecoverReport {
  verdict: Verdict;
  exitCode: number;
  galera: GaleraPlan;
  rabbitmq: RabbitPlan;
  stack: StackPlan;
  power: Readonly<Record<string, PowerFacts>>;
  unreachable: Readonly<Record<string, string>>;
  notes: readonly string[];
}

export function recoverReport(facts: RecoveryFacts): RecoverReport {
  const galera = galeraPlan(facts.galera);
  const rabbitmq = rabbitmqPlan(facts.rabbitmq);
  const stack = stackPlan(facts.stack ?? []);
  const verdict = verdictOf(galera, rabbitmq, stack);
  return {
    verdict,
    exitCode: RECOVER_EXIT[verdict],
    galera,
    rabbitmq,
    stack,
    power: facts.galera.power,
    unreachable: facts.unreachable,
    notes: facts.notes,
  };
}

function verdictOf(galera: GaleraPlan, rabbitmq: RabbitPlan, stack: StackPlan): Verdict {
  if (galera.kind === "refuse" || rabbitmq.kind === "refuse") return "refused";
  const calm = (kind: string) => kind === "healthy" || kind === "wait";
  return calm(galera.kind) && calm(rabbitmq.kind) && calm(stack.kind) ? "nothing-to-do" : "recovery-needed";
}

/** dry-run: the plan only; act: the plan about to be confirmed; after: the state once acted. */
export type TextMode = "dry-run" | "act" | "after";

const NEEDED: Record<TextMode, string> = {
  "dry-run": "A recovery is needed (exit 2): hastack recover without --dry-run carries out the plan.",
  act: "A recovery is needed: the plan above is carried out once confirmed.",
  after: "Not recovered yet (exit 2): run hastack recover again to carry out the plan above.",
};

function lastLine(verdict: Verdict, mode: TextMode): string {
  if (verdict === "recovery-needed") return NEEDED[mode];
  if (verdict === "refused")
    return "Refused (exit 3): nothing is safe to do until the reasons above are settled.";
  return mode === "after" ? "Recovered: recover exits 0." : "Nothing to do: recover exits 0.";
}

export function recoverText(report: RecoverReport, mode: TextMode = "dry-run"): string {
  const lines: string[] = [];
  const unreachable = Object.entries(report.unreachable);
  if (unreachable.length > 0)
    lines.push("Unreachable:", ...unreachable.map(([host, why]) => `  ${host}: ${why}`), "");
  if (report.notes.length > 0) lines.push("Found:", ...report.notes.map((n) => `  - ${n}`), "");
  const plan = planText({
    galera: report.galera,
    rabbitmq: report.rabbitmq,
    power: report.power,
    stack: stackText(report.stack),
    stackIdle: report.stack.kind === "healthy",
  });
  return `${lines.join("\n")}${lines.length > 0 ? "\n" : ""}${plan}${lastLine(report.verdict, mode)}\n`;
}
