import { describe, expect, it } from "vitest";
import { formatProfile, profileOf, readProfile } from "./profile.ts";

// A real no-op deploy of the lab's default site (2026-12-02, 186 steps, 0 changed), reduced to its
// step events: the numbers below are that run's.
const FIXTURE = new URL("./fixtures/noop-deploy.jsonl", import.meta.url).pathname;

describe("deploy/profile", () => {
  it("finds the bootstrap controller's chain as the critical path of a real no-op deploy", () => {
    const p = readProfile(FIXTURE);

    expect(p.durationMs).toBeCloseTo(63_606, 0);
    expect(p.steps).toHaveLength(186);
    expect(p.busy[0]).toMatchObject({ host: "ctl1", steps: 59 });
    expect(Math.round(p.busy[0]?.ms ?? 0)).toBe(58_039);
    const keys = p.criticalPath.map((s) => s.key);
    expect(keys[0]).toBe("host.packages@sto1");
    expect(keys.at(-1)).toBe("placement.start@ctl1");
    expect(keys).toContain("rabbitmq.users@ctl1");
    expect(keys).toContain("glance.amqp-user@ctl1");
  });

  it("prints the slowest steps first", () => {
    const text = formatProfile(readProfile(FIXTURE), 2);

    expect(text).toContain("run 20261202T140059043Z-1246: 63.6 s (186 ok)");
    expect(text).toMatch(
      /slowest 2 steps:\n {4}7\.0 s {3}glance\.amqp-user@ctl1 \(ok\)\n {4}6\.9 s {3}rabbitmq\.users@ctl1/,
    );
  });

  it("follows the step that ended last before each start, also across hosts", () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const lines = [
      { time: t(0), type: "run-start", runId: "r" },
      { time: t(0), type: "step-start", key: "a@h1" },
      { time: t(0), type: "step-start", key: "b@h2" },
      { time: t(1), type: "step-end", key: "b@h2", host: "h2", status: "ok", durationMs: 1000 },
      { time: t(3), type: "step-end", key: "a@h1", host: "h1", status: "ok", durationMs: 3000 },
      { time: t(3), type: "step-start", key: "c@h2" },
      { time: t(5), type: "step-end", key: "c@h2", host: "h2", status: "changed", durationMs: 2000 },
    ];

    const p = profileOf(lines);

    expect(p.criticalPath.map((s) => s.key)).toEqual(["a@h1", "c@h2"]);
    expect(p.durationMs).toBeUndefined();
  });

  it("refuses a journal that does not start with run-start", () => {
    expect(() => profileOf([{ type: "step-end" }])).toThrow(/does not start with run-start/);
  });
});
