import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HastackError } from "../../../util/errors.ts";
import { packageClosure, programBundle, programHashes } from "./bundle.ts";
import { hashCache } from "./hash-cache.ts";

/** A checkout on disk: src/ and a node_modules/ laid out as npm lays it out. */
async function pkg(
  root: string,
  at: string,
  meta: Record<string, unknown>,
  files: Record<string, string> = {},
) {
  const dir = join(root, "node_modules", at);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify(meta));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}

describe("a program's bundle", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "hastack-bundle-"));
    // app needs b@2 (nested under it) and c; c needs b@1 (the top-level one) and an optional
    // d that is not installed; e is optional and installed; f is only a dev dependency.
    await pkg(
      root,
      "app",
      {
        dependencies: { b: "^2", c: "^1" },
        optionalDependencies: { e: "^1" },
        devDependencies: { f: "^1" },
      },
      { "index.js": "export {};", "lib/x.js": "1" },
    );
    await pkg(root, "app/node_modules/b", { version: "2.0.0" }, { "index.js": "b2" });
    await pkg(root, "b", { version: "1.0.0" }, { "index.js": "b1" });
    await pkg(root, "c", { dependencies: { b: "^1" }, optionalDependencies: { d: "^1" } });
    await pkg(root, "@scope/e", {});
    await pkg(root, "e", { dependencies: { "@scope/e": "^1" } });
    await pkg(root, "f", {});
    await pkg(root, "unrelated", {});
    await mkdir(join(root, "src/lib"), { recursive: true });
    await writeFile(join(root, "src/lib/main.ts"), "import 'app';\n");
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("holds the packages and what they need at run time, resolved as Node resolves them", async () => {
    expect(await packageClosure(join(root, "node_modules"), ["app"])).toEqual([
      "@scope/e",
      "app",
      "app/node_modules/b",
      "b",
      "c",
      "e",
    ]);
  });

  it("has the sources at their paths, a package.json, and each package's files once", async () => {
    const bundle = await programBundle(root, ["lib/main.ts"], ["app"]);

    expect([...bundle.keys()].sort()).toEqual([
      "lib/main.ts",
      "node_modules/@scope/e/package.json",
      "node_modules/app/index.js",
      "node_modules/app/lib/x.js",
      "node_modules/app/node_modules/b/index.js",
      "node_modules/app/node_modules/b/package.json",
      "node_modules/app/package.json",
      "node_modules/b/index.js",
      "node_modules/b/package.json",
      "node_modules/c/package.json",
      "node_modules/e/package.json",
      "package.json",
    ]);
    expect(JSON.parse(bundle.get("package.json")?.data.toString() ?? "")).toEqual({
      type: "module",
      private: true,
    });
    expect(bundle.get("node_modules/app/node_modules/b/index.js")?.data.toString()).toBe("b2");
  });

  it("has, by its hashes alone (a check), every file's sha256 the bundle has, and a change", async () => {
    const hashes = hashCache(join(root, "cache.json"));
    const bundle = await programBundle(root, ["lib/main.ts"], ["app"]);
    const want = new Map([...bundle].map(([p, f]) => [p, f.sha256]));
    expect(await programHashes(root, ["lib/main.ts"], ["app"], hashes)).toEqual(want);

    await writeFile(join(root, "node_modules/b/index.js"), "b1, changed");
    const after = await programHashes(root, ["lib/main.ts"], ["app"], hashes);
    expect(after.get("node_modules/b/index.js")).not.toBe(want.get("node_modules/b/index.js"));
    expect(after.get("lib/main.ts")).toBe(want.get("lib/main.ts"));
  });

  it("says which package is missing, and for whom", async () => {
    await rm(join(root, "node_modules/c"), { recursive: true });

    const error = await programBundle(root, [], ["app"]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HastackError);
    expect((error as HastackError).code).toBe("E_SHIP_LOCAL");
    expect((error as HastackError).message).toMatch(/package c \(needed by app\)/);
  });
});
