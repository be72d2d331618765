/**
 * @module
 * A program's directory on a host as a set of files with hashes: listed in one command, written
 * in one, pruned of what is no longer shipped in one.
 */
import type { StepContext } from "../../types.ts";
import type { Bundle } from "./bundle.ts";
import { tarArchive } from "./tar.ts";

/** The manifest sits beside the program; it is not part of it. */
export const MANIFEST = ".manifest.json";

/** Every file under `dir` but the manifest, by path relative to it, with its sha256 (empty when `dir` is missing). */
export async function remoteFiles(ctx: StepContext, dir: string): Promise<Map<string, string>> {
  const script = `cd -- "$1" 2>/dev/null || exit 0
find . -type f ! -path "./${MANIFEST}" -print0 | xargs -0 -r sha256sum --`;
  const r = await ctx.run(["sh", "-c", script, "sh", dir]);
  const out = new Map<string, string>();
  for (const line of r.stdout.split("\n")) {
    // sha256sum escapes a name holding a newline or backslash with a leading "\": no shipped file has one.
    const m = /^([0-9a-f]{64}) [ *]\.\/(.+)$/.exec(line);
    if (m?.[1] && m[2]) out.set(m[2], m[1]);
  }
  return out;
}

/**
 * Writes `paths` of the bundle under `dir` (0644 unless a file says otherwise, root; new directories 0755) with one `tar -x`
 * (tar.ts says why not writeFiles). Not atomic per file as writeFiles is: tar replaces a file by
 * unlinking it and writing a new one, so a process that has it open keeps the old one; the
 * program's units restart once everything is there and loads.
 */
export async function writeBundleFiles(
  ctx: StepContext,
  dir: string,
  bundle: Bundle,
  paths: readonly string[],
): Promise<void> {
  const entries = paths.flatMap((path) => {
    const f = bundle.get(path);
    return f ? [{ path, data: f.data, mode: f.mode ?? 0o644 }] : [];
  });
  if (entries.length === 0) return;
  await ctx.run(["sh", "-c", 'umask 022 && mkdir -p -- "$1" && tar -x -C "$1"', "sh", dir], {
    stdin: tarArchive(entries),
  });
}

/** Removes files (relative to `dir`), then the directories left empty. Names go on stdin: no length limit. */
export async function removeFiles(ctx: StepContext, dir: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  const script = 'cd -- "$1" && xargs -0 -r rm -f -- && find . -mindepth 1 -depth -type d -empty -delete';
  await ctx.run(["sh", "-c", script, "sh", dir], { stdin: `${paths.join("\0")}\0` });
}
