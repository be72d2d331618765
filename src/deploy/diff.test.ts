import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unifiedDiff } from "./diff.ts";

const dir = mkdtempSync(join(tmpdir(), "hastack-diff-"));

/** GNU diff's hunks, for comparison (test only: the engine never shells out to diff). */
function gnuDiff(a: string, b: string): string {
  writeFileSync(join(dir, "a"), a);
  writeFileSync(join(dir, "b"), b);
  try {
    execFileSync("diff", ["-u", "--label", "a", "--label", "b", join(dir, "a"), join(dir, "b")]);
    return "";
  } catch (error) {
    return String((error as { stdout: Buffer }).stdout);
  }
}

function lines(n: number, f: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => `${f(i)}\n`).join("");
}

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\n", "a\n", "a", "b")).toBe("");
  });

  const cases: [string, string, string][] = [
    [
      "one change in the middle",
      lines(20, (i) => `l${i}`),
      lines(20, (i) => (i === 10 ? "changed" : `l${i}`)),
    ],
    ["add at start and end", lines(10, (i) => `l${i}`), `new\n${lines(10, (i) => `l${i}`)}tail\n`],
    [
      "two distant hunks",
      lines(40, (i) => `l${i}`),
      lines(40, (i) => (i === 3 || i === 30 ? `x${i}` : `l${i}`)),
    ],
    [
      "two close hunks merge",
      lines(40, (i) => `l${i}`),
      lines(40, (i) => (i === 10 || i === 15 ? `x${i}` : `l${i}`)),
    ],
    ["from empty", "", "a\nb\n"],
    ["to empty", "a\nb\n", ""],
    ["deletions", lines(12, (i) => `l${i}`), lines(12, (i) => `l${i}`).replace("l4\nl5\n", "")],
  ];
  for (const [name, a, b] of cases) {
    it(`matches diff -u: ${name}`, () => {
      expect(unifiedDiff(a, b, "a", "b")).toBe(gnuDiff(a, b));
    });
  }
});
