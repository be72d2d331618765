import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tarArchive } from "./tar.ts";

describe("tarArchive", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("GNU tar extracts every file with its bytes and mode, long paths and empty files included", async () => {
    dir = await mkdtemp(join(tmpdir(), "hastack-tar-"));
    const long = `node_modules/${"deep/".repeat(30)}file.js`;
    const entries = [
      { path: "a.ts", data: Buffer.from("export const a = 1;\n"), mode: 0o644 },
      { path: "empty.txt", data: Buffer.alloc(0), mode: 0o600 },
      { path: long, data: Buffer.alloc(513, 7), mode: 0o644 },
      { path: "bin/run", data: Buffer.from([0, 1, 2, 255]), mode: 0o755 },
    ];

    execFileSync("tar", ["-x", "-C", dir], { input: tarArchive(entries) });

    for (const e of entries) {
      expect(await readFile(join(dir, e.path))).toEqual(e.data);
      expect((await stat(join(dir, e.path))).mode & 0o777).toBe(e.mode);
    }
  });

  it("refuses a path ustar cannot hold", () => {
    expect(() => tarArchive([{ path: "x".repeat(101), data: Buffer.alloc(0), mode: 0o644 }])).toThrow(
      RangeError,
    );
  });
});
