import { describe, expect, it } from "vitest";
import { drillVerdict, VERDICT_EXIT_CODES, type VerdictFacts, verdictLine } from "./verdict.ts";

const clean: VerdictFacts = { downtimeMs: 3400, goalMs: 5000, violations: [], problems: [] };

describe("drill verdicts", () => {
  it("passes a drill within its budget with nothing wrong", () => {
    expect(drillVerdict(clean)).toBe("passed");
    expect(verdictLine(clean)).toBe(
      "verdict: passed (downtime 3.40 s within the 5.00 s budget, no safety violation)",
    );
  });

  it("passes a drill that lands exactly on its budget", () => {
    expect(drillVerdict({ ...clean, downtimeMs: 5000 })).toBe("passed");
  });

  it("calls a safe drill over budget slow, and says by how much", () => {
    const facts = { ...clean, downtimeMs: 12_300 };
    expect(drillVerdict(facts)).toBe("slow");
    expect(verdictLine(facts)).toBe(
      "verdict: slow (safe, but downtime 12.30 s missed the 5.00 s budget by 7.30 s)",
    );
  });

  it("calls two VIP holders unsafe even when the downtime was fine", () => {
    const facts = { ...clean, violations: ["two VIP holders at once: ctl1, ctl2"] };
    expect(drillVerdict(facts)).toBe("unsafe");
    expect(verdictLine(facts)).toBe("verdict: UNSAFE (two VIP holders at once: ctl1, ctl2)");
  });

  it("ranks unsafe above failed above slow", () => {
    const all = {
      downtimeMs: 60_000,
      goalMs: 5000,
      violations: ["3 acknowledged write(s) lost: 4, 5, 6"],
      problems: ["restore failed: cannot start mariadb on ctl1"],
    };
    expect(drillVerdict(all)).toBe("unsafe");
    expect(drillVerdict({ ...all, violations: [] })).toBe("failed");
    expect(verdictLine({ ...all, violations: [] })).toBe(
      "verdict: FAILED (restore failed: cannot start mariadb on ctl1)",
    );
    expect(drillVerdict({ ...all, violations: [], problems: [] })).toBe("slow");
  });

  it("gives each verdict its own exit code, 0 only for passed", () => {
    const codes = Object.values(VERDICT_EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    expect(VERDICT_EXIT_CODES.passed).toBe(0);
    expect(codes.filter((c) => c === 0)).toHaveLength(1);
  });
});
