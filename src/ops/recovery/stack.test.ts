import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { memoryJournal } from "./act-journal.ts";
import type { ActContext } from "./act-step.ts";
import { fakeHost, hosts } from "./fixtures/fake-host.ts";
import {
  collectStackNode,
  type StackPlan,
  stackPlan,
  stackText,
  startMembership,
  startPacemaker,
} from "./stack.ts";

const healthy = readFileSync(new URL("../../hostkit/fixtures/crm-mon-healthy.xml", import.meta.url), "utf8");

describe("the cluster stack in a recovery", () => {
  it("reads systemctl is-active's two lines; nothing readable is unknown, and unknown is never started", async () => {
    // As on the lab's ctl1 after the power cut (2026-12-03): both off, exit 3.
    const off = fakeHost("ctl1", {
      answers: { "systemctl is-active": { code: 3, stdout: "inactive\ninactive\n" } },
    });
    expect(await collectStackNode(off)).toEqual({
      host: "ctl1",
      corosync: "inactive",
      pacemaker: "inactive",
    });
    const silent = fakeHost("ctl2");
    const unknown = await collectStackNode(silent);
    expect(unknown).toEqual({ host: "ctl2", corosync: "unknown", pacemaker: "unknown" });
    expect(stackPlan([unknown])).toEqual({ kind: "healthy" });
    const plan = stackPlan([
      { host: "ctl1", corosync: "inactive", pacemaker: "inactive" },
      { host: "ctl2", corosync: "active", pacemaker: "failed" },
      { host: "ctl3", corosync: "active", pacemaker: "active" },
    ]);
    expect(plan).toMatchObject({ kind: "start", hosts: ["ctl1", "ctl2"] });
    expect(stackText(plan)).toMatch(/^Cluster stack: start corosync and pacemaker on ctl1, ctl2\n/);
  });

  it("membership: corosync on each host; then pacemaker on each, then waits for quorum; a healthy stack is left alone", async () => {
    const journal = memoryJournal();
    let now = 0;
    let asked = 0;
    const ctl1 = fakeHost("ctl1", { answers: { "systemctl start": {} } });
    const answers = [
      { code: 102, stdout: "", stderr: "not connected" },
      { code: 0, stdout: healthy, stderr: "" },
    ];
    const mon = {
      ...ctl1,
      exec: async (command: string[] | string, opts?: Parameters<typeof ctl1.exec>[1]) => {
        const line = typeof command === "string" ? command : command.join(" ");
        if (line.startsWith("crm_mon")) return { ...answers[Math.min(asked++, 1)], durationMs: 0 } as never;
        return ctl1.exec(command, opts);
      },
    };
    const ctl2 = fakeHost("ctl2", { answers: { "systemctl start": {} } });
    const ctx: ActContext = {
      transport: hosts(mon, ctl2),
      journal,
      timing: {
        bootstrapMs: 10_000,
        joinMs: 10_000,
        pollMs: 1_000,
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      },
    };
    const plan: StackPlan = { kind: "start", hosts: ["ctl1", "ctl2"], reasons: [] };
    await startMembership(plan, ctx);
    await startPacemaker(plan, ctx);
    await startMembership({ kind: "healthy" }, ctx);
    await startPacemaker({ kind: "healthy" }, ctx);
    const started = journal.entries.flatMap((e) =>
      e.type === "action" && e.status === "started" ? [`${e.host}: ${e.command}`] : [],
    );
    expect(started).toEqual([
      "ctl1: systemctl start corosync",
      "ctl2: systemctl start corosync",
      "ctl1: systemctl start pacemaker",
      "ctl2: systemctl start pacemaker",
    ]);
    expect(asked).toBe(2);
    expect(journal.entries.at(-1)).toMatchObject({ type: "wait", status: "done", seen: "quorate" });
  });
});
