import { describe, expect, it } from "vitest";
import type { StepSpec } from "../services/types.ts";
import type { DeployEvent } from "./events.ts";
import { buildPlan } from "./plan.ts";
import { runPlan } from "./runner.ts";
import { localHosts, testTopology } from "./test-fixtures.ts";

const names = ["ctl1", "ctl2", "ctl3"];

async function runSteps(steps: StepSpec[], concurrency = 16) {
  const lh = localHosts(names);
  const topology = testTopology(lh.dir, names);
  const plan = buildPlan(topology, [
    { service: "t", after: [], steps: steps.map((spec) => ({ id: `t.${spec.id}`, spec, hosts: names })) },
  ]);
  const events: DeployEvent[] = [];
  const counts = await runPlan(plan, {
    topology,
    services: [],
    files: new Map(),
    transports: lh.transports,
    dryRun: false,
    concurrency,
    emit: (e) => events.push(e),
    done: new Set(),
    secrets: { pw: "hunter2-long-secret" },
    redact: (t) => t.replaceAll("hunter2-long-secret", "<secret:pw>"),
  });
  return { counts, events };
}

describe("runPlan", () => {
  it("reports a declared step (no check, no apply) as not implemented, never as ok", async () => {
    const { counts, events } = await runSteps([
      { id: "declared", title: "declared", on: "each" },
      { id: "real", title: "real", on: "each", after: ["declared"], check: async () => true },
    ]);
    expect(counts).toMatchObject({ ok: names.length, notImplemented: names.length, failed: 0, blocked: 0 });
    const ends = events.filter((e) => e.type === "step-end" && e.step === "t.declared");
    expect(ends.map((e) => (e as { status: string }).status)).toEqual(names.map(() => "not-implemented"));
  });

  it("retries a failing step, then succeeds", async () => {
    let calls = 0;
    const { counts, events } = await runSteps([
      {
        id: "flaky",
        title: "flaky",
        on: "bootstrap",
        retries: 2,
        retryDelayMs: 10,
        apply: async () => {
          calls++;
          if (calls < 3) throw new Error(`transient ${calls}`);
        },
      },
    ]);
    expect(counts).toMatchObject({ changed: 1, failed: 0 });
    expect(events.filter((e) => e.type === "note").map((e) => (e as { text: string }).text)).toEqual([
      "attempt 1/3 failed, retrying in 10 ms: transient 1",
      "attempt 2/3 failed, retrying in 10 ms: transient 2",
    ]);
  });

  it("times out a step, kills its command, and names the step and host", async () => {
    const { counts, events } = await runSteps([
      {
        id: "hang",
        title: "hang",
        on: "bootstrap",
        timeoutMs: 300,
        apply: async (ctx) => void (await ctx.run(["sleep", "30"])),
      },
    ]);
    expect(counts.failed).toBe(1);
    const end = events.find((e) => e.type === "step-end");
    expect(end).toMatchObject({
      code: "E_STEP_TIMEOUT",
      message: "Cannot apply t.hang on ctl1: timed out after 300 ms",
    });
    expect((end as { durationMs: number }).durationMs).toBeLessThan(5000);
  });

  it("never shows a secret value in a failure", async () => {
    const { events } = await runSteps([
      {
        id: "leak",
        title: "leak",
        on: "bootstrap",
        apply: async (ctx) =>
          void (await ctx.run(["sh", "-c", `echo "bad password ${ctx.secret("pw")}" >&2; exit 1`])),
      },
    ]);
    const message = (events.find((e) => e.type === "step-end") as { message: string }).message;
    expect(message).not.toContain("hunter2");
    expect(message).toContain("bad password <secret:pw>");
  });

  it("runs each steps in parallel across hosts and serial steps one host at a time", async () => {
    const spans: Record<string, [number, number][]> = { each: [], serial: [] };
    const timed = (id: "each" | "serial"): StepSpec => ({
      id,
      title: id,
      on: id,
      apply: async (ctx) => {
        const start = performance.now();
        await ctx.run(["sleep", "0.3"]);
        spans[id]?.push([start, performance.now()]);
      },
    });
    await runSteps([timed("each"), timed("serial")]);
    const overlaps = (s: [number, number][]) =>
      s.some(([a0, a1], i) => s.some(([b0, b1], j) => i !== j && a0 < b1 && b0 < a1));
    expect(overlaps(spans.each ?? [])).toBe(true);
    expect(overlaps(spans.serial ?? [])).toBe(false);
    const lastEach = Math.max(...(spans.each ?? []).map(([, e]) => e));
    expect(Math.min(...(spans.serial ?? []).map(([s]) => s))).toBeGreaterThanOrEqual(lastEach);
  });
});
