import { describe, expect, it } from "vitest";
import type { HaEvent } from "../store-rows.ts";
import { alertFor } from "./classify.ts";
import { rateLimiter } from "./rate-limit.ts";
import { AlertSettings } from "./settings.ts";

const rules = AlertSettings.parse({});
const at = new Date("2026-12-03T10:00:00Z");
const gate = (host: string, data: HaEvent["data"], detail = "x"): HaEvent => ({
  at,
  host,
  kind: "gate",
  detail,
  data,
});

describe("instance-ha/notify: which history entries are alerts", () => {
  it("alerts refusals of the configured gates only; the site-wide ones under one subject for every host", () => {
    const plane = "control plane down (nova-api): Nova could not evacuate";
    const a = alertFor(gate("cmp1", { act: false, gate: "control-plane" }, plane), rules);
    const b = alertFor(gate("cmp2", { act: false, gate: "control-plane" }, plane), rules);
    expect(a).toMatchObject({
      severity: "critical",
      key: "gate:site:control-plane",
      title: `cmp1 is left as it is: ${plane}`,
    });
    expect(b?.key).toBe(a?.key);
    expect(alertFor(gate("cmp1", { act: false, gate: "dry-run" }), rules)).toMatchObject({
      severity: "info",
      key: "gate:cmp1:dry-run",
    });
    for (const g of ["quorum", "backoff", "cycle-limit"])
      expect(alertFor(gate("cmp1", { act: false, gate: g }), rules)).toBeUndefined();
    expect(alertFor(gate("cmp1", { act: true }), rules)).toBeUndefined();
    const strict = AlertSettings.parse({ gates: ["valve"] });
    expect(alertFor(gate("cmp1", { act: false, gate: "dry-run" }), strict)).toBeUndefined();
  });

  it("leaves out what is no news: a fence or an evacuation starting, a confirmed fence, a phase change", () => {
    const quiet: HaEvent[] = [
      { at, host: "cmp1", kind: "fence", detail: "fencing cmp1" },
      { at, host: "cmp1", kind: "fence", detail: "fenced", data: { ok: true } },
      { at, host: "cmp1", kind: "evacuation", detail: "evacuating cmp1" },
      { at, host: "cmp1", kind: "phase", phaseFrom: "healthy", phaseTo: "suspect", detail: "suspect" },
      { at, host: "cmp1", kind: "operator", detail: "cmp1: nova-compute re-enabled" },
    ];
    expect(quiet.map((e) => alertFor(e, rules))).toEqual(quiet.map(() => undefined));
  });

  it("an evacuation is good news only when nothing was left behind", () => {
    const evac = (outcome: string, failed: number): HaEvent => ({
      at,
      host: "cmp1",
      kind: "evacuation",
      detail: `cmp1: ${outcome}, ${failed} VM(s) not evacuated`,
      data: { outcome, failed },
    });
    expect(alertFor(evac("evacuated", 0), rules)?.severity).toBe("info");
    expect(alertFor(evac("evacuated", 1), rules)?.severity).toBe("critical");
    expect(alertFor(evac("not-fenced", 3), rules)).toMatchObject({
      severity: "critical",
      key: "evacuation:cmp1:not-fenced",
    });
  });

  it("keys an engine alert by its wording, counts and times aside", () => {
    const e = (n: number): HaEvent => ({
      at,
      kind: "alert",
      detail: `resumed ${n} host(s) from the history`,
    });
    expect(alertFor(e(3), rules)?.key).toBe("alert:site:resumed # host(s) from the history");
    expect(alertFor(e(12), rules)?.key).toBe(alertFor(e(3), rules)?.key);
  });

  it("rejects a password secret without a user", () => {
    const smtp = { host: "relay", from: "a@example.org", to: ["b@example.org"], password_secret: "smtp_pw" };
    expect(AlertSettings.safeParse({ smtp }).success).toBe(false);
    expect(AlertSettings.safeParse({ smtp: { ...smtp, username: "u" } }).success).toBe(true);
  });
});

describe("instance-ha/notify: the rate limit", () => {
  it("a failed send gives its slot back, keeping what was held back for the next", () => {
    const limit = rateLimiter(60);
    expect(limit.take("k", 0)).toEqual({ key: "k", suppressed: 0, failed: 0 });
    expect(limit.take("k", 1000)).toBeUndefined();
    const slot = limit.take("k", 60_000);
    expect(slot).toMatchObject({ suppressed: 1, suppressedSince: 1000, failed: 0 });
    if (slot) limit.giveBack(slot);
    expect(limit.take("k", 61_000)).toMatchObject({ suppressed: 1, suppressedSince: 1000, failed: 1 });
    expect(limit.take("k", 62_000)).toBeUndefined();
    expect(limit.take("other", 62_000)).toMatchObject({ suppressed: 0 });
  });
});
