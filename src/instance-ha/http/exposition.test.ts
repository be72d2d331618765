import { describe, expect, it } from "vitest";
import { renderExposition } from "./exposition.ts";
import { createCounter, createHistogram } from "./instruments.ts";
import { parseScrape } from "./test-scrape.ts";

describe("instance-ha/http/exposition: Prometheus text format 0.0.4", () => {
  it("writes HELP and TYPE before the samples, and escapes label values and help text", () => {
    const c = createCounter("hastack_ha_test_total", 'counts "things"\nwith a \\ backslash');
    c.inc({ host: 'cmp"1', why: "line one\nline two", path: "C:\\dir" }, 2);
    c.inc({ host: "cmp2" });
    c.inc({ host: "cmp2" });
    const text = renderExposition([c.family()]);
    expect(text).toBe(
      [
        '# HELP hastack_ha_test_total counts "things"\\nwith a \\\\ backslash',
        "# TYPE hastack_ha_test_total counter",
        'hastack_ha_test_total{host="cmp\\"1",why="line one\\nline two",path="C:\\\\dir"} 2',
        'hastack_ha_test_total{host="cmp2"} 2',
        "",
      ].join("\n"),
    );
    const scrape = parseScrape(text);
    expect(scrape.help.get("hastack_ha_test_total")).toBe('counts "things"\nwith a \\ backslash');
    expect(
      scrape.value("hastack_ha_test_total", { host: 'cmp"1', why: "line one\nline two", path: "C:\\dir" }),
    ).toBe(2);
  });

  it("writes a histogram's cumulative buckets, +Inf, _sum and _count per label set", () => {
    const h = createHistogram("hastack_ha_test_seconds", "a duration", [1, 5, 10]);
    for (const v of [0.5, 1, 3, 7, 400]) h.observe({ outcome: "evacuated" }, v);
    h.observe({ outcome: "partial" }, 2);
    const text = renderExposition([h.family()]);
    expect(text.split("\n").slice(0, 8)).toEqual([
      "# HELP hastack_ha_test_seconds a duration",
      "# TYPE hastack_ha_test_seconds histogram",
      'hastack_ha_test_seconds_bucket{outcome="evacuated",le="1"} 2',
      'hastack_ha_test_seconds_bucket{outcome="evacuated",le="5"} 3',
      'hastack_ha_test_seconds_bucket{outcome="evacuated",le="10"} 4',
      'hastack_ha_test_seconds_bucket{outcome="evacuated",le="+Inf"} 5',
      'hastack_ha_test_seconds_sum{outcome="evacuated"} 411.5',
      'hastack_ha_test_seconds_count{outcome="evacuated"} 5',
    ]);
    const scrape = parseScrape(text);
    expect(scrape.types.get("hastack_ha_test_seconds")).toBe("histogram");
    expect(scrape.value("hastack_ha_test_seconds_bucket", { outcome: "partial", le: "1" })).toBe(0);
    expect(scrape.value("hastack_ha_test_seconds_bucket", { outcome: "partial", le: "5" })).toBe(1);
    expect(scrape.value("hastack_ha_test_seconds_count", { outcome: "partial" })).toBe(1);
  });

  it("writes gauges without labels, and non-finite values as Prometheus spells them", () => {
    const text = renderExposition([
      {
        name: "hastack_ha_x",
        help: "x",
        type: "gauge",
        samples: [
          { labels: {}, value: 1 },
          { labels: { v: "inf" }, value: Number.POSITIVE_INFINITY },
          { labels: { v: "nan" }, value: Number.NaN },
        ],
      },
    ]);
    expect(text).toContain("\nhastack_ha_x 1\n");
    expect(text).toContain('\nhastack_ha_x{v="inf"} +Inf\n');
    expect(text).toContain('\nhastack_ha_x{v="nan"} NaN\n');
    expect(parseScrape(text).value("hastack_ha_x")).toBe(1);
  });

  it("refuses an invalid metric or label name, and a family named twice", () => {
    const bad =
      (name: string, labels: Record<string, string> = {}) =>
      () =>
        renderExposition([{ name, help: "h", type: "gauge", samples: [{ labels, value: 1 }] }]);
    expect(bad("hastack-ha")).toThrow(/Cannot expose hastack-ha: an invalid or repeated name/);
    expect(bad("hastack_ha_ok", { "bad-label": "x" })).toThrow(/"bad-label" is not a label name/);
    expect(bad("hastack_ha_ok", { __reserved: "x" })).toThrow(/is not a label name/);
    const f = { name: "hastack_ha_twice", help: "h", type: "gauge" as const, samples: [] };
    expect(() => renderExposition([f, f])).toThrow(/repeated/);
  });
});
