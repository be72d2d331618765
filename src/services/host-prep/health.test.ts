import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSources, parseTracking } from "../../hostkit/chrony.ts";
import { judgeChrony, judgeClocks } from "./health.ts";

/** chronyc -c output of a real chronyd 4.6 from the lab image (fixtures/capture-chrony.ts). */
function fixture(name: string): string {
  return readFileSync(new URL(`../../hostkit/fixtures/${name}`, import.meta.url), "utf8");
}
const host = { name: "ctl1" };
const judge = (tracking: string, sources: string) =>
  judgeChrony(parseTracking(host, fixture(tracking)), parseSources(host, fixture(sources)));

describe("host-prep.time: chrony follows a selected source, small offset (runbook V1)", () => {
  it("is ok for a client synchronised to its server", () => {
    const r = judge("chrony-tracking.csv", "chrony-sources.csv");
    expect(r.state).toBe("ok");
    expect(r.summary).toMatch(/^following 127\.0\.0\.1 \(stratum 9\)/);
  });

  it("names a chrony that is not synchronised and has no selected source", () => {
    const r = judge("chrony-tracking-unsynchronised.csv", "chrony-sources.csv");
    expect(r.state).toBe("degraded");
    expect(r.summary).toContain("chrony is not synchronised");
  });

  it("names a clock 2.5 s off its source", () => {
    const r = judge("chrony-tracking-offset-2.5s.csv", "chrony-sources-offset-2.5s.csv");
    expect(r.state).toBe("degraded");
    expect(r.summary).toMatch(/clock is 2\.\d{3} s off/);
  });

  it("reads the unreachable source as unusable", () => {
    const sources = parseSources(host, fixture("chrony-sources.csv"));
    expect(sources.map((s) => [s.name, s.state])).toEqual([
      ["127.0.0.1", "selected"],
      ["127.0.0.2", "unusable"],
    ]);
  });

  it("refuses output that is not chronyc's CSV", () => {
    expect(() => parseTracking(host, "506 Cannot talk to daemon\n")).toThrow(
      expect.objectContaining({ code: "E_TOOL_OUTPUT" }),
    );
  });
});

describe("host-prep.clocks: every host's clock against the others'", () => {
  const reading = (host: string, offset: number) => ({ host, offset, uncertainty: 0.05 });

  it("is ok when hosts agree within the round trip", () => {
    const r = judgeClocks([reading("ctl1", 0.01), reading("ctl2", -0.02), reading("ctl3", 0.0)]);
    expect(r.state).toBe("ok");
  });

  it("names the one host whose clock was stepped, whatever this machine's own clock says", () => {
    // This machine 100 s off every host: the median (100.05) takes it out; ctl2 stepped 30 s
    // ahead of it (not 29.95, which rounds either way).
    const r = judgeClocks([
      reading("ctl1", 100),
      reading("ctl2", 130.05),
      reading("ctl3", 100.1),
      reading("cmp1", 99.9),
    ]);
    expect(r.state).toBe("degraded");
    expect(r.summary).toMatch(/^ctl2's clock is 30\.0 s ahead of the others/);
    expect(r.summary).not.toContain("ctl1");
  });

  it("names a host that did not answer", () => {
    const r = judgeClocks([reading("ctl1", 0), { host: "ctl2", error: "no route" }]);
    expect(r.summary).toContain("ctl2 did not tell its time");
  });
});
