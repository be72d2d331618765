import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
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

  it("imports every module on its own, in a fresh worker each (its own module cache)", async () => {
    // Entry points run the program when imported; everything else must only define things.
    // The fixture capture scripts (src/**/fixtures/capture*.ts) are entry points too: importing
    // one runs it and rewrites the captured fixtures (it did, in a CI rehearsal).
    const entry = /\/cli\/main\.ts$|\.test\.ts$|\/fixtures-cycle\/|\/fixtures\/capture[^/]*\.ts$/;
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

function importAlone(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const worker = new Worker(`await import(${JSON.stringify(file)});`, { eval: true, stdout: true });
    worker.on("error", (error) => resolve(error.message.split("\n")[0]));
    worker.on("exit", (code) => resolve(code === 0 ? undefined : `exit ${code}`));
  });
}
