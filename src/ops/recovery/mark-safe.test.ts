import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MARK_SAFE_ARGV } from "./act-galera.ts";
import { fixture } from "./fixtures/galera-facts.ts";
import { GRASTATE_PATH, parseGrastate } from "./galera-state.ts";

/**
 * The bootstrap's one file edit, run with this machine's sed (GNU sed, as on Debian) on the
 * grastate.dat files the real daemon wrote: only safe_to_bootstrap changes.
 */
function markSafe(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "hastack-grastate-")), "grastate.dat");
  writeFileSync(file, text);
  const [tool = "", ...args] = MARK_SAFE_ARGV.map((a) => (a === GRASTATE_PATH ? file : a));
  execFileSync(tool, args);
  return readFileSync(file, "utf8");
}

describe("MARK_SAFE_ARGV", () => {
  for (const name of ["grastate-ctl1-killed.dat", "grastate-ctl2-clean-stop.dat"])
    it(`sets safe_to_bootstrap: 1 in ${name} and changes nothing else`, () => {
      const before = fixture(name);
      const after = markSafe(before);
      expect(parseGrastate("ctl1", after)).toEqual({
        ...parseGrastate("ctl1", before),
        safeToBootstrap: true,
      });
      expect(after.split("\n").filter((l, i) => l !== before.split("\n")[i])).toEqual([
        "safe_to_bootstrap: 1",
      ]);
    });

  it("leaves a file that already says 1 as it is", () => {
    const text = fixture("grastate-ctl1-last-clean-stop.dat");
    expect(markSafe(text)).toBe(text);
  });
});
