import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const repo = new URL("../../", import.meta.url).pathname;

describe("package-lock.json", () => {
  // A fresh clone's `npm install` must leave the lock as committed: a newcomer should not start
  // with a modified file. npm recomputes the lock from package.json and the registry here, the
  // way `npm install` does, in a scratch copy (no node_modules touched).
  it("is exactly what npm install writes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hastack-lock-"));
    try {
      for (const f of ["package.json", "package-lock.json"]) await copyFile(join(repo, f), join(dir, f));
      await run(
        "npm",
        ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        // npm on the pinned Node (this process's), as scripts/bootstrap.sh runs it.
        { cwd: dir, env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` } },
      );
      const committed = await readFile(join(repo, "package-lock.json"), "utf8");
      expect(await readFile(join(dir, "package-lock.json"), "utf8")).toBe(committed);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
