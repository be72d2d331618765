/**
 * @module
 * Counters and histograms that live in the process and are read at each scrape: one series per
 * label set, kept in a map keyed by the label set's canonical form.
 */
import type { HistogramSample, Labels, MetricFamily, Sample } from "./exposition.ts";

/** Seconds, from a fence that answers at once to an evacuation of a full compute. */
export const SECONDS_BUCKETS: readonly number[] = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  family(): MetricFamily;
}

/** `initial`: label sets exposed at 0 before their first event, so a rate over them is defined. */
export function createCounter(name: string, help: string, initial: readonly Labels[] = []): Counter {
  const series = new Map<string, Sample>();
  function inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const s = series.get(key);
    if (s) s.value += by;
    else series.set(key, { labels: { ...labels }, value: by });
  }
  for (const labels of initial) inc(labels, 0);
  return {
    inc,
    family: () => ({ name, help, type: "counter", samples: [...series.values()] }),
  };
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
  family(): MetricFamily;
}

export function createHistogram(
  name: string,
  help: string,
  bounds: readonly number[] = SECONDS_BUCKETS,
): Histogram {
  const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  return {
    observe(labels, value) {
      const key = keyOf(labels);
      let s = series.get(key);
      if (!s) {
        s = { labels: { ...labels }, counts: bounds.map(() => 0), sum: 0, count: 0 };
        series.set(key, s);
      }
      for (const [i, le] of bounds.entries()) if (value <= le) s.counts[i] = (s.counts[i] ?? 0) + 1;
      s.sum += value;
      s.count++;
    },
    family() {
      const samples: HistogramSample[] = [...series.values()].map((s) => ({
        labels: s.labels,
        buckets: bounds.map((le, i) => ({ le, count: s.counts[i] ?? 0 })),
        sum: s.sum,
        count: s.count,
      }));
      return { name, help, type: "histogram", samples };
    },
  };
}
