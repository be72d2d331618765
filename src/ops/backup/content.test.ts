import { describe, expect, it } from "vitest";
import { compareRestore, countSql, parseCounts, tableCounts } from "./content.ts";
import { sampleManifest } from "./fixtures.ts";

const restored = {
  databases: ["hastack_backup", "keystone", "nova"],
  counts: [
    { db: "hastack_backup", table: "canary", rows: 1 },
    { db: "keystone", table: "project", rows: 4 },
    { db: "nova", table: "instance_actions", rows: 11 },
  ],
  canary: ["0123456789abcdef0123456789abcdef"],
};

describe("what a restore must hold", () => {
  it("passes when every database, every count in its before/after window and the canary are there", () => {
    expect(compareRestore(sampleManifest(), restored).every((f) => f.ok)).toBe(true);
  });

  it("fails on a missing database, a count outside its window, a missing table, a wrong or missing canary", () => {
    const f = compareRestore(sampleManifest(), {
      databases: ["keystone", "nova"],
      counts: [
        { db: "keystone", table: "project", rows: 3 },
        { db: "nova", table: "instance_actions", rows: 13 },
      ],
      canary: ["f".repeat(32)],
    });
    expect(f).toEqual([
      { ok: false, check: "databases", detail: "missing: hastack_backup" },
      {
        ok: false,
        check: "tables and row counts",
        detail:
          "3 of 3 wrong: hastack_backup.canary missing; keystone.project has 3 rows, 4 at backup time; nova.instance_actions has 13 rows, 10-12 at backup time",
      },
      {
        ok: false,
        check: "canary row",
        detail: "hastack_backup.canary id 20261204T151230Z has another token than the manifest's",
      },
    ]);
    expect(compareRestore(sampleManifest(), { ...restored, canary: [] })[2]?.detail).toBe(
      "hastack_backup.canary has no row with id 20261204T151230Z",
    );
  });

  it("counts in one consistent snapshot, quoting names, and reads the counts strictly", () => {
    expect(countSql([{ db: "a`b", table: "t" }])).toBe(
      "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;\nSELECT 'a`b', 't', COUNT(*) FROM `a``b`.`t`;\nCOMMIT",
    );
    expect(() => parseCounts("ctl1", [["nova", "instances"]])).toThrow(
      'Cannot read the row counts on ctl1: unexpected row "nova\\tinstances"',
    );
    const before = [
      { db: "a", table: "t", rows: 1 },
      { db: "a", table: "dropped", rows: 5 },
    ];
    expect(tableCounts(before, [{ db: "a", table: "t", rows: 2 }])).toEqual([
      { db: "a", table: "t", before: 1, after: 2 },
    ]);
  });
});
