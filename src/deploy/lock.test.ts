import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireDeployLock } from "./lock.ts";

describe("acquireDeployLock", () => {
  it("refuses a second deploy while the first holds the lock, and frees it after", () => {
    const dir = mkdtempSync(join(tmpdir(), "hastack-lock-"));
    const release = acquireDeployLock(dir, "run-a");
    expect(() => acquireDeployLock(dir, "run-b")).toThrow(/run run-a \(pid \d+\) is deploying/);
    release();
    acquireDeployLock(dir, "run-c")();
  });

  it("takes over a lock whose process is gone", () => {
    const dir = mkdtempSync(join(tmpdir(), "hastack-lock-"));
    writeFileSync(join(dir, "deploy.lock"), "2147483646 run-dead\n");
    acquireDeployLock(dir, "run-new")();
  });
});
