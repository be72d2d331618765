import { describe, expect, it } from "vitest";
import { runCli } from "../testing/run-cli.ts";

/** The verb as a user runs it; the plan itself is tested on composed facts (recover-report.test.ts). */
describe("hastack recover", () => {
  it("refuses to act without --yes when stdin is not a terminal: exit 3, before reading anything", async () => {
    // A missing inventory would be exit 1: the refusal comes first, so no host and no file is read.
    const r = await runCli(["recover", "-i", "examples/no-such-inventory.yaml"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "error[E_RECOVER_CONFIRM]: Cannot recover: stdin is not a terminal, so nobody can confirm the plan, and --yes was not given",
    );
  });

  it("refuses --json when acting: it goes with --dry-run only", async () => {
    const r = await runCli(["recover", "-i", "examples/no-such-inventory.yaml", "--json", "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("error: --json goes with --dry-run only\n");
  });

  it("documents its exit codes in --help", async () => {
    const r = await runCli(["recover", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--dry-run");
    expect(r.stdout).toContain("--yes");
    expect(r.stdout).toMatch(
      /Exit codes:\n\s+0 {2}nothing to do[^\n]*\n\s+2 {2}a recovery is needed[^\n]*\n\s+3 {2}refused/,
    );
  });
});
