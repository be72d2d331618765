import { describe, expect, it } from "vitest";
import { judgeClocks } from "./health.ts";

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
