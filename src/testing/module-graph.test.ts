import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importCycles, modulesUnder, runtimeImports } from "./module-graph.ts";

const src = fileURLToPath(new URL("../", import.meta.url));

describe("the module graph of src/", () => {
  it("reads run-time imports and skips type-only ones", () => {
    const text = [
      'import type { A } from "./a.ts";',
      'import { type B, type C } from "./b.ts";',
      'import { d, type E } from "./d.ts";',
      'export { f } from "./f.ts";',
      'export type { G } from "./g.ts";',
      'const h = await import("./h.ts");',
    ].join("\n");
    const got = runtimeImports("/x/m.ts", text).map((p) => p.replace("/x/", ""));
    expect(got.sort()).toEqual(["d.ts", "f.ts", "h.ts"]);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    const dir = fileURLToPath(new URL("./fixtures-cycle/", import.meta.url));
    expect(importCycles(modulesUnder(dir), dir)).toEqual([["a.ts", "b.ts", "a.ts"]]);
  });

  it("has no import cycle anywhere under src/", () => {
    const files = modulesUnder(src).filter((f) => !f.includes("/fixtures-cycle/"));
    expect(files.length).toBeGreaterThan(100);
    expect(importCycles(files, src)).toEqual([]);
  });

  it("imports every module on its own, in a fresh process each (its own module cache)", async () => {
    // Entry points run the program when imported (the CLI, the compute agent); everything else
    // must only define things.
    // The fixture capture scripts (src/**/fixtures/capture*.ts) are entry points too: importing
    // one runs it and rewrites the captured fixtures (it did, in a CI rehearsal).
    const entry =
      /\/cli\/main\.ts$|\/instance-ha\/(agent|daemon)\/main\.ts$|\.test\.ts$|\/fixtures-cycle\/|\/fixtures\/capture[^/]*\.ts$/;
    const files = modulesUnder(src).filter((f) => !entry.test(f));
    const failures: string[] = [];
    const queue = [...files];
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const error = await importAlone(file);
        if (error) failures.push(`${file.slice(src.length)}: ${error}`);
      }
    };
    await Promise.all(Array.from({ length: availableParallelism() }, worker));
    expect(failures).toEqual([]);
    // About 100 s on an idle 2-core machine: every worker loads its module graph from scratch.
  }, 900_000);
});

// A child process rather than a worker thread: a CI run lost the whole test file when one of
// ~300 short-lived worker threads took the vitest fork down with SIGSEGV. A process is isolated,
// so a crash is reported against the one module it was importing.
function importAlone(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", `await import(${JSON.stringify(file)});`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) => resolve(error.message));
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(undefined);
      const first =
        stderr.split("\n").find((line) => /Error|error:/.test(line)) ?? stderr.trim().split("\n")[0];
      resolve(`${signal ? `killed by ${signal}` : `exit ${code}`}: ${first ?? ""}`);
    });
  });
}
