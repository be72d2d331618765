/**
 * @module
 * The step that ships one hastack program to its hosts: `dir` holds its sources at their paths
 * under src/, a package.json, and node_modules/ with its packages and their run-time
 * dependencies, run by the pinned Node (node-step.ts). A no-op deploy costs one small read: the
 * manifest (every file's sha256 and the Node version) the last apply left in `dir`.
 */
import { z } from "zod";
import type { Topology } from "../../../topology/types.ts";
import { HastackError } from "../../../util/errors.ts";
import type { StepContext, StepSpec } from "../../types.ts";
import { type Bundle, bundleFile, programBundle, programHashes } from "./bundle.ts";
import { NODE_STEP } from "./node-step.ts";
import { NODE_BIN, pinnedNode, REPO_ROOT, shipHashes } from "./pinned-node.ts";
import { MANIFEST, remoteFiles, removeFiles, writeBundleFiles } from "./remote-tree.ts";
import { restartRunning } from "./restart.ts";

export interface ProgramSpec {
  /** The step's id within its service ("agent", "engine"). */
  id: string;
  title: string;
  hosts(topology: Topology): string[];
  /** On the host, under /opt/hastack/ ("/opt/hastack/agent"). */
  dir: string;
  /** Paths under src/ (AGENT_SOURCES). */
  sources: readonly string[];
  /** npm packages the sources import (AGENT_PACKAGES); their own dependencies come along. */
  packages: readonly string[];
  /**
   * Units restarted, when running, after anything changed (restart.ts says why only those):
   * the agent's unit; not the engine's, which Pacemaker runs.
   */
  units: readonly string[];
  /** Sources that do their work when imported (main.ts, the default): the load check skips them. */
  entries?: readonly string[];
  after?: string[];
  /** The checkout to ship from (src/ and node_modules/ under it); tests ship from a copy. */
  root?: string;
  /** Files built on the deploying machine (the engine's native receiver), by path in `dir`. */
  built?: readonly BuiltFile[];
}

export interface BuiltFile {
  path: string;
  mode: number;
  build(): Promise<Buffer>;
}

async function builtFiles(spec: ProgramSpec): Promise<Bundle> {
  const out: Bundle = new Map();
  for (const b of spec.built ?? []) out.set(b.path, bundleFile(await b.build(), b.mode));
  return out;
}

const Manifest = z.object({ node: z.string(), files: z.record(z.string(), z.string()) });
type Manifest = z.infer<typeof Manifest>;

function manifestOf(bundle: Bundle, node: string): Manifest {
  return hashesManifest(new Map([...bundle].map(([p, f]) => [p, f.sha256])), node);
}

function hashesManifest(hashes: ReadonlyMap<string, string>, node: string): Manifest {
  const paths = [...hashes.keys()].sort();
  return { node, files: Object.fromEntries(paths.map((p) => [p, hashes.get(p) ?? ""])) };
}

function sameManifest(a: Manifest, b: Manifest): boolean {
  const keys = Object.keys(a.files);
  return (
    a.node === b.node &&
    keys.length === Object.keys(b.files).length &&
    keys.every((k) => a.files[k] === b.files[k])
  );
}

async function storedManifest(ctx: StepContext, dir: string): Promise<Manifest | undefined> {
  const data = await ctx.transport.readFile(`${dir}/${MANIFEST}`);
  if (!data) return undefined;
  try {
    return Manifest.parse(JSON.parse(data.toString("utf8")));
  } catch {
    return undefined; // a torn or foreign file: apply rewrites everything that differs
  }
}

/**
 * Imports every package and every non-entry source with the shipped Node, from `dir`: proves
 * the binary runs there, every file parses, and every import (relative or a package) resolves,
 * without running the program. Packages are imported by name, as the sources do.
 */
async function checkLoads(ctx: StepContext, spec: ProgramSpec): Promise<void> {
  const entries = spec.entries ?? spec.sources.filter((s) => s.endsWith("/main.ts") || s === "main.ts");
  const specifiers = [
    ...spec.packages,
    ...spec.sources.filter((s) => !entries.includes(s)).map((s) => `./${s}`),
  ];
  const script = `for (const s of ${JSON.stringify(specifiers)}) await import(s);`;
  const r = await ctx.transport.exec([
    "sh",
    "-c",
    'cd -- "$1" && exec "$2" --input-type=module -e "$3"',
    "sh",
    spec.dir,
    NODE_BIN,
    script,
  ]);
  if (r.code !== 0) {
    const why = r.stderr
      .trim()
      .split("\n")
      .filter((l) => /Error|Cannot/.test(l))
      .slice(0, 3)
      .join("; ");
    throw new HastackError(
      "E_SHIP_LOAD",
      `Cannot load ${spec.id} from ${spec.dir} on ${ctx.host.name}: ${why || `exit code ${r.code}`}`,
      { hint: "a source or package the program imports is missing from its sources or packages list" },
    );
  }
}

export function programSteps(spec: ProgramSpec, topology: Topology): StepSpec[] {
  if (!/^\/opt\/hastack\/[a-z0-9][a-z0-9-]*$/.test(spec.dir) || spec.dir.endsWith("/node"))
    throw new RangeError(`A program's directory is /opt/hastack/<name> (not node): ${spec.dir}`);
  // Built once per deploy run (a service's steps are made per run), shared by all its hosts.
  let wanted: Promise<{ bundle: Bundle; manifest: Manifest }> | undefined;
  const want = () => {
    wanted ??= Promise.all([
      programBundle(spec.root ?? REPO_ROOT, spec.sources, spec.packages),
      builtFiles(spec),
      pinnedNode(),
    ]).then(([sources, built, node]) => {
      const bundle: Bundle = new Map([...sources, ...built]);
      return { bundle, manifest: manifestOf(bundle, node.version) };
    });
    return wanted;
  };
  // A check needs only the hashes, mostly remembered from an earlier run (hash-cache.ts).
  let hashed: Promise<Manifest> | undefined;
  const wantHashes = () => {
    hashed ??= Promise.all([
      programHashes(spec.root ?? REPO_ROOT, spec.sources, spec.packages, shipHashes),
      builtFiles(spec),
      pinnedNode(),
    ]).then(([hashes, built, node]) =>
      hashesManifest(
        new Map([...hashes, ...[...built].map(([p, f]) => [p, f.sha256] as const)]),
        node.version,
      ),
    );
    return hashed;
  };
  return [
    {
      id: spec.id,
      title: spec.title,
      on: "each",
      hosts: spec.hosts(topology),
      after: [NODE_STEP, ...(spec.after ?? [])],
      async check(ctx) {
        const [manifest, stored] = await Promise.all([wantHashes(), storedManifest(ctx, spec.dir)]);
        return stored !== undefined && sameManifest(manifest, stored);
      },
      async apply(ctx) {
        const { bundle, manifest } = await want();
        // First: from here until the new one is written, the files are not what any manifest says.
        await ctx.run(["rm", "-f", "--", `${spec.dir}/${MANIFEST}`]);
        // What is there, not what the manifest says: an apply that died half-way left files
        // the old manifest does not describe.
        const there = await remoteFiles(ctx, spec.dir);
        const changed = [...bundle].filter(([p, f]) => there.get(p) !== f.sha256).map(([p]) => p);
        const stray = [...there.keys()].filter((p) => !bundle.has(p));
        ctx.log.info(`${spec.id}: ${changed.length} files to write, ${stray.length} to remove`);
        await writeBundleFiles(ctx, spec.dir, bundle, changed);
        await removeFiles(ctx, spec.dir, stray);
        await checkLoads(ctx, spec);
        // Before the manifest: a failed restart leaves the step unconverged, so the next run retries it.
        const restarted = await restartRunning(ctx, spec.units);
        if (restarted.length > 0) ctx.log.info(`restarted ${restarted.join(", ")}`);
        await ctx.transport.writeFile(`${spec.dir}/${MANIFEST}`, `${JSON.stringify(manifest)}\n`, {
          owner: "root",
          group: "root",
          mode: 0o644,
        });
      },
    },
  ];
}
