import { describe, expect, it } from "vitest";
import { completedAt } from "../../hostkit/crm-mon.ts";
import type { TransportPool } from "../../transport/pool.ts";
import { waitFenceSettled } from "./host-ops.ts";
import type { DrillContext } from "./types.ts";

// stonith_admin --history ctl1 --verbose --output-as=xml as Pacemaker 3 prints it (captured on
// the lab, 2 Dec 2026), with the event's status and time filled in per test.
function history(events: { status: string; completed?: string }[]): string {
  const lines = events.map(
    (e) =>
      `    <fence_event action="reboot" target="ctl1" client="pacemaker-controld.277" origin="ctl2" status="${e.status}" delegate="ctl2"${e.completed ? ` completed="${e.completed}"` : ""}/>`,
  );
  return [
    `<pacemaker-result api-version="2.38" request="stonith_admin --history ctl1 --verbose --output-as=xml">`,
    `  <list name="fencing history" count="${events.length}">`,
    ...lines,
    "  </list>",
    `  <status code="0" message="OK"/>`,
    "</pacemaker-result>",
  ].join("\n");
}

/** A drill context whose survivor (ctl2) answers stonith_admin with each answer in turn. */
function context(answers: string[]): { ctx: DrillContext; asked: () => number; logs: string[] } {
  let n = 0;
  const logs: string[] = [];
  const transport = {
    name: "ctl2",
    async exec(argv: string[]) {
      expect(argv).toEqual(["stonith_admin", "--history", "ctl1", "--verbose", "--output-as=xml"]);
      const stdout = answers[Math.min(n, answers.length - 1)] as string;
      n++;
      return { code: 0, stdout, stderr: "" };
    },
  };
  const ctx = {
    topology: { roles: { controller: ["ctl1", "ctl2", "ctl3"] } },
    pool: { get: () => transport } as unknown as TransportPool,
    log: (line: string) => logs.push(line),
  } as unknown as DrillContext;
  return { ctx, asked: () => n, logs };
}

describe("waitFenceSettled (a drill never powers a host on under a running fence)", () => {
  it("reads Pacemaker's completed time, microseconds included", () => {
    expect(completedAt("2026-12-02 11:23:36.377439Z")).toBe(Date.UTC(2026, 11, 2, 11, 23, 36, 377));
  });

  it("waits while the fence is pending, and returns once it has ended after the fault", async () => {
    const faultAt = Date.UTC(2026, 11, 2, 11, 22, 30);
    const { ctx, asked, logs } = context([
      history([]),
      history([{ status: "pending" }]),
      history([{ status: "success", completed: "2026-12-02 11:22:36.100000Z" }]),
    ]);
    await waitFenceSettled(ctx, "ctl1", faultAt, 10_000);
    expect(asked()).toBe(3);
    expect(logs).toEqual([]);
  });

  it("does not count a fence that ended before the fault, and gives up with a log line", async () => {
    const faultAt = Date.UTC(2026, 11, 2, 11, 22, 30);
    const { ctx, logs } = context([
      history([{ status: "success", completed: "2026-12-02 11:20:41.069439Z" }]),
    ]);
    await waitFenceSettled(ctx, "ctl1", faultAt, 1_500);
    expect(logs).toEqual([
      "ctl1: no fence of it in the cluster's history after 1.5 s (asked ctl2); powering it on anyway",
    ]);
  });
});
