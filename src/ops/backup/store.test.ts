import { describe, expect, it } from "vitest";
import { sampleManifest } from "./fixtures.ts";
import { parseStoredLines, pickBackup } from "./store.ts";
import { parseStatSize } from "./store-ceph.ts";

const m = sampleManifest();
const older = sampleManifest({ id: "20261203T101010Z" });

describe("stored backups", () => {
  it("reads a listing of complete and incomplete backups, skipping names that are not ours", () => {
    const stdout = `${older.id} ${JSON.stringify(older)}\n20261204T000000Z\nlost+found\n${m.id} ${JSON.stringify(m)}\n`;
    const stored = parseStoredLines(stdout, "pool hastack-backups");
    expect(stored.map((b) => [b.id, b.manifest !== undefined])).toEqual([
      [older.id, true],
      ["20261204T000000Z", false],
      [m.id, true],
    ]);
    expect(pickBackup(stored).id).toBe(m.id);
    expect(pickBackup(stored, older.id).id).toBe(older.id);
    expect(() => pickBackup(stored, "20261204T000000Z")).toThrow(
      "Cannot find backup 20261204T000000Z: it has no manifest (the run that took it did not complete)",
    );
    expect(() => pickBackup([])).toThrow("Cannot find a complete backup to verify: none is stored");
  });

  it("refuses a manifest stored under another id, or one that does not parse", () => {
    expect(() => parseStoredLines(`${older.id} ${JSON.stringify(m)}`, "ctl2")).toThrow(
      `Cannot read the backup manifest ctl2 ${older.id}/manifest.json: it names backup ${m.id}`,
    );
    expect(() => parseStoredLines(`${m.id} {"format":1}`, "ctl2")).toThrow(
      /^Cannot read the backup manifest ctl2 20261204T151230Z\/manifest.json: /,
    );
  });

  it("reads rados stat's size", () => {
    expect(
      parseStatSize(
        "ctl1",
        "hastack-backups/20261204T151230Z/part-0000 mtime 2026-12-04T15:12:40.000000+0000, size 67108864\n",
      ),
    ).toBe(67108864);
    expect(() => parseStatSize("ctl1", "error stat-ing")).toThrow("Cannot read rados stat's answer on ctl1");
  });
});
