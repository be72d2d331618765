import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { errorCodeFamilies, errorCodes, errorsMarkdown } from "./error-codes.ts";

const root = new URL("../../", import.meta.url).pathname;
const src = join(root, "src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

const files = sources(src).filter((f) => !f.endsWith("error-codes.ts") && !f.endsWith("error-codes.test.ts"));
const literal = /["'`](E_[A-Z0-9_]+)["'`]/g;
const families = Object.keys(errorCodeFamilies).map((f) => f.replace("*", ""));

describe("error catalogue", () => {
  it("has no code that nothing raises", () => {
    const code = files
      .filter((f) => !f.endsWith(".test.ts"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    const unused = Object.keys(errorCodes).filter((c) => !code.includes(`"${c}"`));
    expect(unused, "remove these from src/util/error-codes.ts (or raise them)").toEqual([]);
  });

  it("knows every code the sources and tests name", () => {
    const unknown: string[] = [];
    for (const file of files) {
      for (const [, code] of readFileSync(file, "utf8").matchAll(literal)) {
        if (!code || code in errorCodes || families.some((p) => code.startsWith(p))) continue;
        unknown.push(`${relative(root, file)}: ${code}`);
      }
    }
    expect(unknown, "a removed or misspelled code").toEqual([]);
  });

  it("gives every code a one-line meaning, in order", () => {
    const codes = Object.keys(errorCodes);
    // Dictionary order ('_' before letters: E_HOST_NO_STORAGE, then E_HOSTKEY_MISMATCH).
    expect(codes).toEqual([...codes].sort((a, b) => a.localeCompare(b, "en")));
    for (const meaning of Object.values(errorCodes)) {
      expect(meaning).not.toContain("\n");
      expect(meaning.length).toBeGreaterThan(10);
    }
  });

  it("is what docs/errors.md lists (npm run errors regenerates it)", () => {
    expect(readFileSync(join(root, "docs/errors.md"), "utf8")).toBe(errorsMarkdown());
  });
});
