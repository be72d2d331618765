/**
 * @module
 * Prometheus' text exposition format 0.0.4, written by hand: a handful of families does not
 * need a client library, and typed families make a malformed scrape a compile error rather than
 * a silently dropped target. Format: https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import { HastackError } from "../../util/errors.ts";

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** Cumulative counts, one per upper bound, in increasing order; +Inf is `count`. */
  buckets: readonly { le: number; count: number }[];
  sum: number;
  count: number;
}

export type MetricFamily =
  | { name: string; help: string; type: "counter" | "gauge"; samples: readonly Sample[] }
  | { name: string; help: string; type: "histogram"; samples: readonly HistogramSample[] };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** HELP text: backslash and newline escaped. */
function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** A label value: backslash, double quote and newline escaped. */
function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

function labelSet(name: string, labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  for (const [key] of pairs)
    if (!LABEL_NAME.test(key) || key.startsWith("__"))
      throw new HastackError("E_HA_API_INTERNAL", `Cannot expose ${name}: "${key}" is not a label name`);
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function histogramLines(name: string, s: HistogramSample): string[] {
  const lines = s.buckets.map(
    (b) => `${name}_bucket${labelSet(name, s.labels, ["le", formatNumber(b.le)])} ${formatNumber(b.count)}`,
  );
  lines.push(`${name}_bucket${labelSet(name, s.labels, ["le", "+Inf"])} ${formatNumber(s.count)}`);
  lines.push(`${name}_sum${labelSet(name, s.labels)} ${formatNumber(s.sum)}`);
  lines.push(`${name}_count${labelSet(name, s.labels)} ${formatNumber(s.count)}`);
  return lines;
}

/** The families as one scrape body: HELP and TYPE before each family's samples, a newline at the end. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (!METRIC_NAME.test(f.name) || seen.has(f.name))
      throw new HastackError("E_HA_API_INTERNAL", `Cannot expose ${f.name}: an invalid or repeated name`);
    seen.add(f.name);
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === "histogram") for (const s of f.samples) lines.push(...histogramLines(f.name, s));
    else
      for (const s of f.samples)
        lines.push(`${f.name}${labelSet(f.name, s.labels)} ${formatNumber(s.value)}`);
  }
  return `${lines.join("\n")}\n`;
}
