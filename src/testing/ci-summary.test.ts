import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const script = new URL("../../scripts/ci-summary.sh", import.meta.url).pathname;
const dir = await mkdtemp(join(tmpdir(), "hastack-ci-summary-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

// Vitest's summary lines as it prints them to a pipe (colour codes included).
function testsLine(counts: string): string {
  return `\x1b[2m      Tests \x1b[22m \x1b[1m\x1b[32m${counts}\x1b[39m\x1b[22m\n`;
}

async function summarise(log: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(dir, `log-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, log);
  try {
    const { stdout, stderr } = await run("bash", [script, file]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("scripts/ci-summary.sh (CI's closing line)", () => {
  // The case that once failed CI silently: nothing failed, so no "N failed" to find.
  it("adds up both projects and exits 0 when every test passed", async () => {
    const r = await summarise(
      `${testsLine("315 passed | 1 skipped (316)")}noise\n${testsLine("28 passed (28)")}`,
    );
    expect(r).toMatchObject({ code: 0, stdout: "343 passed, 0 failed, 1 skipped\n" });
  });

  it("counts failures", async () => {
    const r = await summarise(testsLine("2 failed | 40 passed (42)"));
    expect(r).toMatchObject({ code: 0, stdout: "40 passed, 2 failed, 0 skipped\n" });
  });

  it("exits 1 and says so when no test ran", async () => {
    const r = await summarise("npm error Lifecycle script `test` failed\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ran no test");
  });
});
