/**
 * @module
 * What a module loads at run time, followed through: the files and npm packages a program needs
 * (the instance-HA agent and engine are shipped to hosts as exactly these), and the relative
 * imports one module makes (src/testing/module-graph.ts finds import cycles with it).
 */
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

/**
 * Relative imports a module loads at run time. Type-only imports and exports are skipped, and so
 * is an import whose every name is `type X`; dynamic `import("...")` counts (it loads the module).
 */
export function runtimeImports(file: string, text = readFileSync(file, "utf8")): string[] {
  const out: string[] = [];
  const statement = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+["'](\.[^"']+)["']/g;
  for (const m of text.matchAll(statement)) {
    const [, , typeOnly, clause = "", spec = ""] = m;
    if (typeOnly) continue;
    const names = /^\{([\s\S]*)\}$/.exec(clause.trim())?.[1];
    if (names !== undefined) {
      const parts = names
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean);
      if (parts.length > 0 && parts.every((n) => n.startsWith("type "))) continue;
    }
    out.push(resolve(dirname(file), spec));
  }
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+["'](\.[^"']+)["']/g))
    out.push(resolve(dirname(file), m[1] ?? ""));
  for (const m of text.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g))
    out.push(resolve(dirname(file), m[1] ?? ""));
  return [...new Set(out)];
}

/** Bare specifiers a module imports at run time (type-only imports are erased): their packages. */
function runtimePackages(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+(?!type\s)[^;]*?\sfrom\s+["']([^".'][^"']*)["']/g)) {
    const spec = m[1] as string;
    if (spec.startsWith("node:")) continue;
    // "mysql2/promise" is the package mysql2; "@hono/node-server/x" is @hono/node-server.
    const parts = spec.split("/");
    out.push(spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string));
  }
  return out;
}

/** Every file under `root` that `entry` loads, transitively (paths relative to root), and the packages they import. */
export function programFiles(root: string, entry: string): { sources: string[]; packages: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [resolve(root, entry)];
  for (let file = queue.pop(); file; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    queue.push(...runtimeImports(file, text));
    for (const p of runtimePackages(text)) packages.add(p);
  }
  return {
    sources: [...seen].map((f) => relative(root, f)).sort(),
    packages: [...packages].sort(),
  };
}
