/**
 * @module
 * The import graph of src/: which module imports which at run time (`import type` and
 * `export type` are erased and load nothing), and the cycles in it. A cycle makes a module's
 * meaning depend on which module of the cycle was imported first (`Cannot access 'etcd' before
 * initialization`), so hastack keeps none.
 */
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { runtimeImports } from "../util/import-graph.ts";

export { runtimeImports };

/** Every .ts module under `root` (tests too: they must import cleanly as well). */
export function modulesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) out.push(path);
    }
  };
  walk(root);
  return out.sort();
}

/** Each cycle once, as module paths relative to `root`, first module repeated at the end. */
export function importCycles(files: readonly string[], root: string): string[][] {
  const graph = new Map(files.map((f) => [f, runtimeImports(f).filter((t) => files.includes(t))]));
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const s = state.get(next);
      if (s === "open")
        cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(root, f)));
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}
