import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../testing/run-cli.ts";

/** examples/lab.yaml with fencing off, and optionally a waiver, as an operator would write it. */
async function labWith(extra: string): Promise<string> {
  const text = (await readFile("examples/lab.yaml", "utf8")).replace(
    "services:\n",
    "services:\n  pacemaker:\n    fencing: false\n",
  );
  const dir = await mkdtemp(join(tmpdir(), "hastack-waiver-"));
  const file = join(dir, "inventory.yaml");
  await writeFile(file, `${text}${extra}`);
  return file;
}

describe("hastack validate: fencing off needs a waiver (the seeds' E17)", () => {
  it("is an error at services.pacemaker.fencing without a waiver", async () => {
    const file = await labWith("");
    const result = await runCli(["validate", "-i", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /inventory\.yaml:\d+:\d+: error\[E_FENCING_OFF\]: services\.pacemaker\.fencing: false/,
    );
    expect(result.stderr).toContain("waivers.fencing");
  });

  it("is a warning with the waiver's reason when waived, and the inventory is valid", async () => {
    const file = await labWith("waivers:\n  fencing: a throwaway lab without BMCs, never production\n");
    const result = await runCli(["validate", "-i", file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      "warning[E_FENCING_OFF]: services.pacemaker.fencing: false (waived: a throwaway lab without BMCs, never production)",
    );
    expect(result.stdout).toContain("valid: cluster lab");
  });

  it("refuses a waiver too short to say why", async () => {
    const result = await runCli(["validate", "-i", await labWith("waivers:\n  fencing: ok\n")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("waivers.fencing");
  });
});
