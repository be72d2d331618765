/**
 * @module
 * What a program is on the deploying machine: its sources (paths under src/), a package.json
 * saying "type": "module" (Node 24 strips the types; nothing is built), and node_modules/ with
 * its packages and everything they need at run time, each file with its sha256.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, posix, relative, sep } from "node:path";
import { z } from "zod";
import { HastackError } from "../../../util/errors.ts";
import type { HashCache } from "./hash-cache.ts";

export interface BundleFile {
  data: Buffer;
  sha256: string;
  /** @default 0o644 */
  mode?: number;
}

/** Paths relative to the program's directory on the host, "/"-separated. */
export type Bundle = Map<string, BundleFile>;

export const PROGRAM_PACKAGE_JSON = `${JSON.stringify({ type: "module", private: true }, null, 2)}\n`;

const PackageJson = z.object({
  name: z.string().optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
});

export function bundleFile(data: Buffer, mode?: number): BundleFile {
  return { data, sha256: createHash("sha256").update(data).digest("hex"), ...(mode ? { mode } : {}) };
}

function localError(what: string, e: unknown): HastackError {
  return new HastackError(
    "E_SHIP_LOCAL",
    `Cannot ${what} on the deploying machine: ${e instanceof Error ? e.message : String(e)}`,
    { hint: "run `npm ci` in the hastack checkout", cause: e },
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * Where Node finds `name` from a package in `from`: its own node_modules/, then each enclosing
 * one up to the checkout's (npm nests a package there when two versions are needed).
 */
async function resolvePackage(modules: string, from: string, name: string): Promise<string | undefined> {
  for (let dir = from; ; dir = dirname(dir)) {
    if (posix.basename(dir) !== "node_modules") {
      const candidate = join(dir, "node_modules", name);
      if (await exists(candidate)) return candidate;
    }
    if (dir === dirname(modules) || dir === dirname(dir)) return undefined;
  }
}

/**
 * The packages' directories and those of their run-time dependencies (optional ones only when
 * installed; peer and dev dependencies never), as paths under `modules`.
 */
export async function packageClosure(modules: string, packages: readonly string[]): Promise<string[]> {
  const root = dirname(modules);
  const found = new Set<string>();
  const queue = packages.map((name) => ({ from: root, name, optional: false }));
  for (let next = queue.shift(); next; next = queue.shift()) {
    const dir = await resolvePackage(modules, next.from, next.name);
    if (!dir) {
      if (next.optional) continue;
      const by = next.from === root ? "" : ` (needed by ${relative(modules, next.from)})`;
      throw localError(`find the package ${next.name}${by}`, new Error(`not in ${modules}`));
    }
    if (found.has(dir)) continue;
    found.add(dir);
    const meta = PackageJson.parse(JSON.parse(await readFile(join(dir, "package.json"), "utf8")));
    for (const name of Object.keys(meta.dependencies ?? {})) queue.push({ from: dir, name, optional: false });
    for (const name of Object.keys(meta.optionalDependencies ?? {}))
      queue.push({ from: dir, name, optional: true });
  }
  return [...found].map((d) => relative(modules, d).split(sep).join("/")).sort();
}

/** A package's files, without its nested node_modules/ (those are packages of their own). */
async function packageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") out.push(...(await packageFiles(path)));
    } else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path)).isFile())) {
      out.push(path);
    }
  }
  return out;
}

/**
 * Where each file of the program comes from on this machine, by its path in the bundle; the
 * bundle's package.json is written, not read, so it has none.
 */
async function programPaths(
  root: string,
  sources: readonly string[],
  packages: readonly string[],
): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const source of sources) paths.set(source, join(root, "src", source));
  const modules = join(root, "node_modules");
  for (const pkg of await packageClosure(modules, packages)) {
    for (const path of await packageFiles(join(modules, pkg))) {
      const rel = relative(modules, path).split(sep).join("/");
      paths.set(`node_modules/${rel}`, path);
    }
  }
  return paths;
}

/** The whole program; `root` is the checkout (src/ and node_modules/ under it). */
export async function programBundle(
  root: string,
  sources: readonly string[],
  packages: readonly string[],
): Promise<Bundle> {
  const bundle: Bundle = new Map();
  bundle.set("package.json", bundleFile(Buffer.from(PROGRAM_PACKAGE_JSON)));
  for (const [rel, path] of await programPaths(root, sources, packages)) {
    const data = await readFile(path).catch((e: unknown) => {
      throw localError(`read ${relative(root, path)}`, e);
    });
    bundle.set(rel, bundleFile(data));
  }
  return bundle;
}

/**
 * The sha256 of every file of the program by its path in the bundle, as programBundle would
 * have them, without reading a file whose stat `hashes` remembers (a deploy's check).
 */
export async function programHashes(
  root: string,
  sources: readonly string[],
  packages: readonly string[],
  hashes: HashCache,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  out.set("package.json", bundleFile(Buffer.from(PROGRAM_PACKAGE_JSON)).sha256);
  for (const [rel, path] of await programPaths(root, sources, packages)) {
    const { sha256 } = await hashes.hash(path).catch((e: unknown) => {
      throw localError(`read ${relative(root, path)}`, e);
    });
    out.set(rel, sha256);
  }
  await hashes.save();
  return out;
}
