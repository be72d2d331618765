import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { latestJournal, runsDir } from "../../deploy/journal.ts";
import { recoverJournal } from "./act-journal.ts";

describe("recoverJournal", () => {
  it("appends one JSON line per entry under .hastack/runs, created by the first line only", () => {
    const dir = mkdtempSync(join(tmpdir(), "hastack-recover-"));
    const inventory = join(dir, "site.yaml");
    const journal = recoverJournal(inventory, new Date("2026-12-03T00:30:00.123Z"));
    expect(readdirSync(dir)).toEqual([]);
    journal.write({ type: "recover-start", plan: "Galera: bootstrap ctl2 (seqno 9, new-cluster)" });
    journal.write({
      type: "action",
      host: "ctl2",
      step: "bootstrap galera",
      command: "galera_new_cluster",
      status: "done",
    });
    expect(journal.path).toMatch(/\/\.hastack\/runs\/recover-20261203T003000123Z-[0-9a-f]{4}\.jsonl$/);
    const lines = readFileSync(journal.path, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toMatchObject([
      { type: "recover-start", plan: "Galera: bootstrap ctl2 (seqno 9, new-cluster)" },
      { type: "action", host: "ctl2", command: "galera_new_cluster", status: "done" },
    ]);
    expect(typeof lines[0].time).toBe("string");
    expect(statSync(journal.path).mode & 0o777).toBe(0o600);
  });

  it("is never taken for the latest deploy run (deploy --resume)", () => {
    const dir = mkdtempSync(join(tmpdir(), "hastack-recover-"));
    const inventory = join(dir, "site.yaml");
    recoverJournal(inventory).write({ type: "recover-end", status: "ok" });
    expect(latestJournal(runsDir(inventory))).toBeUndefined();
    const deployRun = join(runsDir(inventory), "20261202T000000000Z-abcd.jsonl");
    writeFileSync(deployRun, "");
    expect(latestJournal(runsDir(inventory))).toBe(deployRun);
  });
});
