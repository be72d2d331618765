import { describe, expect, it } from "vitest";
import { sampleManifest } from "./fixtures.ts";
import { backupId, idTime, parseManifest } from "./manifest.ts";

const text = (over = {}) => JSON.stringify({ ...sampleManifest(), ...over });

describe("backup manifest", () => {
  it("parses what `backup run` writes, and names ids by UTC second", () => {
    expect(parseManifest(text(), "pool hastack-backups 20261204T151230Z/manifest.json")).toEqual(
      sampleManifest(),
    );
    const id = backupId(new Date("2026-12-04T15:12:30.987Z"));
    expect(id).toBe("20261204T151230Z");
    expect(idTime(id).toISOString()).toBe("2026-12-04T15:12:30.000Z");
  });

  it("refuses what is not JSON, a bad sha256, misnumbered parts and a size that is not their sum", () => {
    const where = "ctl2 20261204T151230Z/manifest.json";
    expect(() => parseManifest("{truncated", where)).toThrow(
      `Cannot read the backup manifest ${where}: not JSON`,
    );
    const badSha = sampleManifest().parts.map((p, i) => (i === 1 ? { ...p, sha256: "xyz" } : p));
    expect(() => parseManifest(text({ parts: badSha }), where)).toThrow(/parts\.1\.sha256/);
    const skipped = sampleManifest().parts.map((p, i) => (i === 1 ? { ...p, name: "part-0002" } : p));
    expect(() => parseManifest(text({ parts: skipped }), where)).toThrow(
      "part 1 is named part-0002, not part-0001",
    );
    expect(() => parseManifest(text({ size: 301 }), where)).toThrow(
      "size 301 is not the sum of its parts (300)",
    );
    expect(() => parseManifest(text({ id: "latest" }), where)).toThrow(/id: a backup id looks like/);
    expect(() => parseManifest(text({ extra: 1 }), where)).toThrow(/Unrecognized key/);
    try {
      parseManifest("[]", where);
    } catch (e) {
      expect((e as { code: string }).code).toBe("E_BACKUP_MANIFEST");
    }
  });
});
