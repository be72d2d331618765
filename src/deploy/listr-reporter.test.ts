import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { emptyCounts } from "./events.ts";
import { listrReporter } from "./listr-reporter.ts";

describe("listrReporter", () => {
  it("follows a run's events and prints diffs, failures and the summary after the live view", async () => {
    let text = "";
    const out = new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    });
    const r = listrReporter(out);
    const nodes = ["a@h1", "b@h1", "a@h2"].map((key) => ({
      key,
      step: key.split("@")[0] ?? "",
      title: key,
      host: key.split("@")[1] ?? "",
    }));
    r.emit({
      type: "run-start",
      runId: "x",
      dryRun: false,
      fingerprint: "f",
      nodes,
      done: [],
      pendingRestarts: [],
    });
    r.emit({ type: "step-start", key: "a@h1", step: "a", host: "h1", attempt: 1 });
    r.emit({ type: "step-end", key: "a@h1", step: "a", host: "h1", status: "changed", durationMs: 5 });
    r.emit({
      type: "step-end",
      key: "a@h2",
      step: "a",
      host: "h2",
      status: "failed",
      durationMs: 5,
      message: "Cannot apply a on h2: boom",
    });
    r.emit({ type: "step-end", key: "b@h1", step: "b", host: "h1", status: "ok", durationMs: 1 });
    r.emit({ type: "file-diff", host: "h1", step: "a", path: "/etc/x", diff: "-old\n+new\n" });
    r.emit({
      type: "run-end",
      status: "failed",
      counts: { ...emptyCounts(), changed: 1, ok: 1, failed: 1 },
      durationMs: 10,
    });
    await r.close();
    expect(text).toContain("h1: /etc/x\n-old\n+new");
    expect(text).toContain("Failed:\n  Cannot apply a on h2: boom");
    expect(text).toContain("1 changed, 1 ok, 1 failed");
  });
});
