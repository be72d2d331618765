import { afterEach, describe, expect, it } from "vitest";
import { closeWorld, HOSTS, report, world } from "../engine-test-world.ts";
import type { RespondReport } from "../respond.ts";
import type { HaEvent } from "../store-rows.ts";
import { renderExposition } from "./exposition.ts";
import { createHaMetrics, type HaMetrics } from "./metrics.ts";
import { parseScrape } from "./test-scrape.ts";

/**
 * The collector wraps the history of a REAL engine (engine-test-world.ts: the real receiver and
 * signed heartbeats over UDP on the test's clock; fence, Nova, BMC and quorum are doubles there),
 * so it is fed exactly the entries and snapshots the engine writes.
 */
let release = () => {};
afterEach(async () => {
  release(); // an evacuation a failed test left hanging would hold closeWorld's stop forever
  await closeWorld();
});

const scrape = (m: HaMetrics) => parseScrape(renderExposition(m.families()));
const OTHERS = HOSTS.filter((h) => h !== "cmp1");

function atOf(recorded: HaEvent[], to: string): number {
  const e = recorded.find((r) => r.host === "cmp1" && r.kind === "phase" && r.phaseTo === to);
  if (!e) throw new Error(`cmp1 never entered ${to}`);
  return e.at.getTime();
}

describe("instance-ha/http/metrics: counters and durations from the engine's history", () => {
  it("counts a confirmed power fence and an evacuation, with its detection and evacuation durations", async () => {
    const metrics = createHaMetrics();
    const w = await world({
      history: metrics.observeHistory,
      evacuate: (host) =>
        new Promise<RespondReport>((resolve) => {
          release = () => resolve(report(host));
        }),
    });
    await w.run(3, HOSTS);
    await w.run(5, OTHERS);
    // Failed, and fenced by the double at once; its events are fed at the next evaluation, which
    // moves it through fencing to fenced and starts the evacuation; Nova takes 8 s more.
    expect(w.phase("cmp1")).toBe("failed");
    expect(w.calls.fence).toHaveLength(1);
    await w.run(9, OTHERS, undefined, false);
    expect(w.phase("cmp1")).toBe("evacuating");
    release();
    await w.engine.idle();
    await w.run(1, OTHERS);
    expect(w.phase("cmp1")).toBe("evacuated");

    const s = scrape(metrics);
    expect(s.value("hastack_ha_fences_total", { method: "power", outcome: "confirmed" })).toBe(1);
    expect(s.value("hastack_ha_fences_total", { method: "storage", outcome: "confirmed" })).toBe(0);
    expect(s.value("hastack_ha_fences_total", { method: "unknown", outcome: "failed" })).toBe(0);
    expect(s.value("hastack_ha_evacuations_total", { outcome: "evacuated" })).toBe(1);
    expect(s.value("hastack_ha_evacuations_total", { outcome: "partial" })).toBe(0);
    expect(s.value("hastack_ha_transitions_total", { phase: "failed" })).toBe(1);

    // Suspect at the first bad evaluation, failed fail_after (3) evaluations later: 2 s.
    const detection = (atOf(w.recorded, "failed") - atOf(w.recorded, "suspect")) / 1000;
    expect(detection).toBe(2);
    expect(s.value("hastack_ha_detection_seconds_count")).toBe(1);
    expect(s.value("hastack_ha_detection_seconds_sum")).toBe(2);
    expect(s.value("hastack_ha_detection_seconds_bucket", { le: "1" })).toBe(0);
    expect(s.value("hastack_ha_detection_seconds_bucket", { le: "2" })).toBe(1);

    // Fenced to the evacuation finished: the 8 s Nova took.
    const finished = w.recorded.find((e) => e.kind === "evacuation" && e.data?.outcome === "evacuated");
    const evacuation = ((finished?.at.getTime() ?? 0) - atOf(w.recorded, "fenced")) / 1000;
    expect(evacuation).toBe(8);
    expect(s.value("hastack_ha_evacuation_seconds_count", { outcome: "evacuated" })).toBe(1);
    expect(s.value("hastack_ha_evacuation_seconds_sum", { outcome: "evacuated" })).toBe(evacuation);
    expect(s.value("hastack_ha_evacuation_seconds_bucket", { outcome: "evacuated", le: "5" })).toBe(0);
    expect(s.value("hastack_ha_evacuation_seconds_bucket", { outcome: "evacuated", le: "10" })).toBe(1);
    // The history got every entry all the same.
    expect(w.recorded.filter((e) => e.kind === "phase" && e.host === "cmp1").length).toBe(6);
  });

  it("counts a fence that failed, and the backoff gate that holds the next one, once per verdict", async () => {
    const metrics = createHaMetrics();
    const w = await world({
      history: metrics.observeHistory,
      fence: async () => ({
        fence: { ok: false, detail: "BMC unreachable", ms: 0, attempts: [] },
        evacuable: false,
        detail: "Cannot fence cmp1: BMC unreachable",
        timeline: [],
      }),
    });
    await w.run(3, HOSTS);
    await w.run(15, OTHERS);
    expect(w.calls.fence).toHaveLength(1);
    const s = scrape(metrics);
    expect(s.value("hastack_ha_fences_total", { method: "unknown", outcome: "failed" })).toBe(1);
    expect(s.value("hastack_ha_fences_total", { method: "power", outcome: "confirmed" })).toBe(0);
    // Held for fence_backoff_s (60 s) every evaluation since, recorded (and counted) once.
    expect(s.value("hastack_ha_gate_blocks_total", { gate: "backoff" })).toBe(1);
    expect(s.value("hastack_ha_gate_blocks_total", { gate: "quorum" })).toBe(0);
    expect(s.value("hastack_ha_evacuations_total", { outcome: "evacuated" })).toBe(0);
    expect(s.samples.filter((x) => x.name.startsWith("hastack_ha_evacuation_seconds"))).toEqual([]);
  });

  it("counts the quorum gate, and observes no duration for an episode it did not see begin", async () => {
    const metrics = createHaMetrics();
    const w = await world({
      history: metrics.observeHistory,
      quorate: { quorate: false, reason: "ctl1 is not quorate (1 of 3 votes, 2 needed)" },
    });
    await w.run(3, HOSTS);
    await w.run(10, OTHERS);
    expect(w.phase("cmp1")).toBe("failed");
    expect(scrape(metrics).value("hastack_ha_gate_blocks_total", { gate: "quorum" })).toBe(1);

    // A standby's collector sees an evacuation finish whose fence it never saw: counted, not timed.
    const standby = createHaMetrics();
    standby.observe({
      at: new Date(),
      host: "cmp3",
      kind: "evacuation",
      detail: "cmp3: partial, 1 VM(s) not evacuated",
      data: { outcome: "partial", failed: 1 },
    });
    const s = scrape(standby);
    expect(s.value("hastack_ha_evacuations_total", { outcome: "partial" })).toBe(1);
    expect(s.samples.filter((x) => x.name.startsWith("hastack_ha_evacuation_seconds"))).toEqual([]);
  });
});
