/**
 * What a drill concludes, in one word an operator and a script can both act on:
 *
 * - passed: the service came back within its budget and nothing unsafe happened;
 * - slow:   safe (no second VIP holder, no lost write, the target fenced) but the budget was missed;
 * - unsafe: a safety property broke, whatever the downtime;
 * - failed: the drill could not prove anything (the service never came back, a restore failed,
 *           the site was not healthy again).
 *
 * Unsafe outranks failed, which outranks slow: the worst true fact is the verdict.
 */
export type DrillVerdict = "passed" | "slow" | "unsafe" | "failed";

/** Distinct exit codes, so a script (or CI) can tell a slow failover from a split brain. */
export const VERDICT_EXIT_CODES: Readonly<Record<DrillVerdict, number>> = {
  passed: 0,
  failed: 1,
  unsafe: 2,
  slow: 3,
};

export interface VerdictFacts {
  downtimeMs: number;
  goalMs: number;
  /** Safety violations: two VIP holders, acknowledged writes lost, the target not fenced. */
  violations: readonly string[];
  /** Everything else that went wrong: no recovery, a failed restore, not healthy afterwards. */
  problems: readonly string[];
}

export function drillVerdict(facts: VerdictFacts): DrillVerdict {
  if (facts.violations.length > 0) return "unsafe";
  if (facts.problems.length > 0) return "failed";
  if (facts.downtimeMs > facts.goalMs) return "slow";
  return "passed";
}

/** The verdict line: the word, then why, so nobody has to reread the report to find out. */
export function verdictLine(facts: VerdictFacts, verdict: DrillVerdict = drillVerdict(facts)): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  switch (verdict) {
    case "passed":
      return `verdict: passed (downtime ${s(facts.downtimeMs)} within the ${s(facts.goalMs)} budget, no safety violation)`;
    case "slow":
      return `verdict: slow (safe, but downtime ${s(facts.downtimeMs)} missed the ${s(facts.goalMs)} budget by ${s(facts.downtimeMs - facts.goalMs)})`;
    case "unsafe":
      return `verdict: UNSAFE (${facts.violations.join("; ")})`;
    case "failed":
      return `verdict: FAILED (${facts.problems.join("; ")})`;
  }
}
