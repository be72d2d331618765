import { afterEach, describe, expect, it } from "vitest";
import { closeWorld, FAILED_FENCE, HOSTS, report, world } from "../engine-test-world.ts";
import type { HaEvent } from "../store-rows.ts";
import { alertingHistory } from "./alerting-history.ts";
import { createNotifier, type Notifier } from "./notifier.ts";
import { AlertSettings } from "./settings.ts";
import { startWebhookServer, type WebhookTestServer } from "./webhook-test-server.ts";

/**
 * The REAL engine (engine-test-world.ts: real receiver, real heartbeats over UDP; the fence and
 * Nova are its doubles) writing through alertingHistory to a notifier that posts to a REAL HTTP
 * server: what an operator hears for each kind of episode, and that the history misses nothing.
 */
let hook: WebhookTestServer | undefined;
afterEach(async () => {
  await closeWorld();
  await hook?.close();
  hook = undefined;
});

async function alerted(o: Parameters<typeof world>[0] = {}) {
  hook = await startWebhookServer();
  const settings = AlertSettings.parse({ webhook: { url: hook.url } });
  const notifier: Notifier = createNotifier(settings, {
    site: "lab",
    log: { info: () => {}, warn: () => {} },
    secret: () => undefined,
  });
  // What the engine handed over, to compare with what reached the inner history.
  const given: HaEvent[] = [];
  const w = await world({
    ...o,
    history: (inner) => {
      const outer = alertingHistory(inner, notifier, settings);
      return {
        ...outer,
        record(e) {
          given.push(e);
          return outer.record(e);
        },
      };
    },
  });
  const bodies = async () => {
    await w.engine.idle();
    await notifier.flush();
    return hook?.bodies ?? [];
  };
  return { w, notifier, bodies, given };
}

describe("instance-ha/notify: alertingHistory under the engine", () => {
  it("a host fenced and evacuated is one info alert; every entry still reaches the history", async () => {
    const { w, bodies, given } = await alerted();
    await w.run(3, HOSTS);
    await w.run(12, ["cmp2", "cmp3", "cmp4"]);
    expect(w.phase("cmp1")).toBe("evacuated");
    expect(await bodies()).toEqual([
      expect.objectContaining({
        host: "cmp1",
        kind: "evacuation",
        severity: "info",
        subject: "[hastack lab] info: cmp1 failed, was fenced and its VMs evacuated",
        detail: "cmp1: evacuated, 0 VM(s) not evacuated",
      }),
    ]);
    expect(given.length).toBeGreaterThan(6);
    expect(w.recorded).toEqual(given);
  });

  it("a fence that failed is critical, once per subject however often it is retried", async () => {
    const { w, notifier, bodies } = await alerted({
      fence: async () => FAILED_FENCE,
      settings: { fence_backoff_s: 5 },
    });
    await w.run(3, HOSTS);
    await w.run(20, ["cmp2", "cmp3", "cmp4"]);
    expect(w.calls.fence.length).toBeGreaterThan(1);
    expect(await bodies()).toEqual([
      expect.objectContaining({
        host: "cmp1",
        kind: "fence",
        severity: "critical",
        subject: "[hastack lab] critical: cmp1 not fenced, nothing evacuated: Cannot fence cmp1: BMC silent",
      }),
    ]);
    expect(notifier.counts().suppressed.webhook).toBe(w.calls.fence.length - 1);
  });

  it("a closed valve is one critical alert for the site, not one per host", async () => {
    const { w, notifier, bodies } = await alerted();
    await w.run(3, HOSTS);
    await w.run(10, ["cmp4"]);
    expect(w.calls.fence).toEqual([]);
    const sent = await bodies();
    expect(sent).toEqual([
      expect.objectContaining({
        kind: "gate",
        severity: "critical",
        detail: expect.stringMatching(/^valve closed: 3 of 4 computes in trouble/),
      }),
    ]);
    expect(notifier.counts().suppressed.webhook).toBeGreaterThanOrEqual(2);
  });

  it("no quorum is one warning (the engine's alert), not a second one for its gate", async () => {
    const { w, bodies } = await alerted({
      quorate: { quorate: false, reason: "ctl1 is not quorate (1 of 3 votes, 2 needed)" },
    });
    await w.run(3, HOSTS);
    await w.run(10, ["cmp2", "cmp3", "cmp4"]);
    expect(await bodies()).toEqual([
      expect.objectContaining({
        kind: "alert",
        severity: "warning",
        detail: expect.stringMatching(/^not fencing cmp1: no quorum: ctl1 is not quorate/),
      }),
    ]);
  });

  it("an evacuation that ended partial is critical, with the engine's count", async () => {
    const partial = (h: string) => ({
      ...report(h),
      outcome: "partial" as const,
      evacuation: { host: h, servers: [], failed: 2, warnings: [], seconds: 1 },
    });
    const { w, bodies } = await alerted({ evacuate: async (h) => partial(h) });
    await w.run(3, HOSTS);
    await w.run(12, ["cmp2", "cmp3", "cmp4"]);
    expect(await bodies()).toEqual([
      expect.objectContaining({
        severity: "critical",
        subject:
          "[hastack lab] critical: cmp1 fenced, evacuation partial: cmp1: partial, 2 VM(s) not evacuated",
      }),
    ]);
  });
});
