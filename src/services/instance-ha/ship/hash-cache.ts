/**
 * @module
 * sha256 of files on the deploying machine, remembered across runs by what `stat` says of each
 * (inode, size, mtime, ctime). Every deploy compares what it would ship with what the hosts have:
 * the pinned Node (126 MB) and ~3,500 files of the agent and engine. Read and hashed on every
 * run, they took 5-6 s of the event loop the deploy's SSH sessions share, and the instance-HA
 * checks 11-24 s of a loaded lab's no-op deploy, on its critical path (the CIB waits for them).
 *
 * A changed file always changes its ctime (no user call sets ctime), so an entry whose stat still
 * matches is the file it was hashed from. The cache is a plain JSON file; a torn or foreign one
 * is ignored and rewritten.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";

const Entry = z.object({
  ino: z.number(),
  size: z.number(),
  mtimeMs: z.number(),
  ctimeMs: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
type Entry = z.infer<typeof Entry>;
const CacheFile = z.object({ version: z.literal(1), entries: z.record(z.string(), Entry) });

export interface Hashed {
  sha256: string;
  size: number;
}

export interface HashCache {
  /** The file's sha256 and size, hashed only when its stat differs from the remembered one. */
  hash(path: string): Promise<Hashed>;
  /** Writes what was hashed since the cache was read (atomically: a rename). */
  save(): Promise<void>;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  // 16 MiB reads: with the default 64 KiB, a 126 MB file took ~2,000 turns of a busy event loop.
  for await (const chunk of createReadStream(path, { highWaterMark: 16 << 20 }) as AsyncIterable<Buffer>)
    hash.update(chunk);
  return hash.digest("hex");
}

async function load(file: string): Promise<Map<string, Entry>> {
  try {
    const parsed = CacheFile.safeParse(JSON.parse(await readFile(file, "utf8")));
    return new Map(parsed.success ? Object.entries(parsed.data.entries) : []);
  } catch {
    return new Map(); // none yet, or unreadable: every file is hashed again
  }
}

export function hashCache(file: string): HashCache {
  let entries: Promise<Map<string, Entry>> | undefined;
  let dirty = false;
  return {
    async hash(path) {
      entries ??= load(file);
      const known = await entries;
      const s = await stat(path);
      const seen = { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
      const hit = known.get(path);
      if (
        hit &&
        hit.ino === seen.ino &&
        hit.size === seen.size &&
        hit.mtimeMs === seen.mtimeMs &&
        hit.ctimeMs === seen.ctimeMs
      )
        return { sha256: hit.sha256, size: hit.size };
      const sha256 = await sha256Of(path);
      // A file written while it was read has a newer stat than the one taken: not remembered.
      const after = await stat(path);
      if (after.mtimeMs === s.mtimeMs && after.ctimeMs === s.ctimeMs && after.size === s.size) {
        known.set(path, { ...seen, sha256 });
        dirty = true;
      }
      return { sha256, size: s.size };
    },
    async save() {
      if (!dirty || !entries) return;
      dirty = false;
      const data = { version: 1, entries: Object.fromEntries(await entries) };
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(tmp, JSON.stringify(data));
        await rename(tmp, file);
      } catch {
        // Only a cache: the next run hashes again.
      }
    },
  };
}
