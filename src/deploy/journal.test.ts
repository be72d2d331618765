import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latestJournal, newRunId } from "./journal.ts";

describe("latestJournal", () => {
  it("picks the newest deploy run, never another command's journal in the same directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "hastack-runs-"));
    try {
      const older = `${newRunId(new Date("2026-12-04T20:00:00Z"))}.jsonl`;
      const newer = `${newRunId(new Date("2026-12-04T20:14:10.765Z"))}.jsonl`;
      for (const name of [older, newer]) writeFileSync(join(dir, name), "{}\n");
      // Written after the deploy run, as `backup restore` and `recover` do: they sort after any
      // run id, so a "newest name" pick took the restore's journal (CI, session 18).
      for (const name of [
        `recover-${newRunId(new Date("2026-12-04T20:20:00Z"))}.jsonl`,
        `restore-${newRunId(new Date("2026-12-04T20:30:00Z"))}.jsonl`,
        "notes.jsonl",
      ])
        writeFileSync(join(dir, name), "");
      expect(latestJournal(dir)).toBe(join(dir, newer));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is undefined without a runs directory or without a deploy run in it", () => {
    const dir = mkdtempSync(join(tmpdir(), "hastack-runs-"));
    try {
      expect(latestJournal(join(dir, "absent"))).toBeUndefined();
      writeFileSync(join(dir, `restore-${newRunId()}.jsonl`), "");
      expect(latestJournal(dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
