import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashCache } from "./hash-cache.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), "hash-cache-"));
  const path = join(dir, "a.js");
  await writeFile(path, "one");
  return { dir, path, cache: join(dir, "cache", "sha256.json") };
}

/** A cache file that remembers `path` as it is now, with a sha256 no file has. */
async function planted(cache: string, path: string) {
  await mkdir(dirname(cache), { recursive: true });
  const s = await stat(path);
  const entry = { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, sha256: "0".repeat(64) };
  await writeFile(cache, JSON.stringify({ version: 1, entries: { [path]: entry } }));
}

describe("hashCache", () => {
  it("hashes a file it has not seen, and a new cache reads what save wrote", async () => {
    const { path, cache } = await fixture();
    const first = hashCache(cache);
    expect(await first.hash(path)).toEqual({ sha256: sha("one"), size: 3 });
    await first.save();
    const saved = JSON.parse(await readFile(cache, "utf8"));
    expect(saved.entries[path].sha256).toBe(sha("one"));
    expect(await hashCache(cache).hash(path)).toEqual({ sha256: sha("one"), size: 3 });
  });

  it("answers from the cache while the file's stat is unchanged: the file is not read", async () => {
    const { path, cache } = await fixture();
    await planted(cache, path);
    // The planted sha256 is wrong on purpose: only a cache hit can answer it.
    expect((await hashCache(cache).hash(path)).sha256).toBe("0".repeat(64));
  });

  it("hashes again once the file was written, even with the same size", async () => {
    const { path, cache } = await fixture();
    await planted(cache, path);
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(path, "two");
    expect(await hashCache(cache).hash(path)).toEqual({ sha256: sha("two"), size: 3 });
  });

  it("ignores a torn cache file and rewrites it", async () => {
    const { path, cache } = await fixture();
    await mkdir(dirname(cache), { recursive: true });
    await writeFile(cache, '{"version":1,"entries":{');
    const c = hashCache(cache);
    expect((await c.hash(path)).sha256).toBe(sha("one"));
    await c.save();
    expect(JSON.parse(await readFile(cache, "utf8")).entries[path].sha256).toBe(sha("one"));
  });
});
