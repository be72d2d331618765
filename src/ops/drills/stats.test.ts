import { describe, expect, it } from "vitest";
import { percentile, spread } from "./stats.ts";

describe("downtime percentiles", () => {
  it("takes the nearest rank: with 20 runs the p95 is the 19th value, so one outlier shows only in max", () => {
    const runs = [...Array.from({ length: 19 }, (_, i) => 3 + i * 0.1), 38.2];
    const s = spread(runs);
    expect(s.runs).toBe(20);
    expect(s.p95).toBeCloseTo(4.8);
    expect(s.max).toBe(38.2);
    expect(s.p50).toBeCloseTo(3.9);
  });

  it("lets two outliers in 20 runs move the p95", () => {
    const runs = [...Array.from({ length: 18 }, () => 3.5), 12.3, 38.2];
    expect(percentile(runs, 95)).toBe(12.3);
  });

  it("does not depend on the order of the runs, and has no value for no runs", () => {
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile([], 95)).toBeNaN();
  });
});
