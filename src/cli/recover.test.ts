import { describe, expect, it } from "vitest";
import { runCli } from "../testing/run-cli.ts";

/** The verb as a user runs it; the plan itself is tested on composed facts (recover-report.test.ts). */
describe("hastack recover", () => {
  it("refuses to act without --dry-run, before asking any host, and says only --dry-run exists", async () => {
    const r = await runCli(["recover", "-i", "examples/lab.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "error[E_RECOVER_NOT_IMPLEMENTED]: Cannot recover: carrying out the plan is not implemented yet, only --dry-run is",
    );
  });

  it("documents its exit codes in --help", async () => {
    const r = await runCli(["recover", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--dry-run");
    expect(r.stdout).toMatch(
      /Exit codes:\n\s+0 {2}nothing to do[^\n]*\n\s+2 {2}a recovery is needed[^\n]*\n\s+3 {2}refused/,
    );
  });
});
