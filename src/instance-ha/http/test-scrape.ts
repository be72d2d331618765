/**
 * @module
 * For tests: a strict reader of Prometheus' text format 0.0.4, written from the format's
 * description (not from exposition.ts), so a scrape is checked by parsing it back: escapes
 * undone, every sample under a TYPE declared before it, anything else an error.
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  help: Map<string, string>;
  types: Map<string, string>;
  samples: ParsedSample[];
  /** The value of the one sample with this name and exactly these labels; throws when there is none. */
  value(name: string, labels?: Record<string, string>): number;
}

function unescaped(s: string, quotes: boolean): string {
  return s.replace(quotes ? /\\([\\"n])/g : /\\([\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseValue(text: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a sample value: ${text}`);
  return Number(text);
}

function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (line[i] !== "}") {
    const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0];
    if (!key || line.slice(i + key.length, i + key.length + 2) !== '="')
      throw new Error(`bad label: ${line}`);
    i += key.length + 2;
    let raw = "";
    while (line[i] !== '"') {
      if (i >= line.length) throw new Error(`unterminated label value: ${line}`);
      if (line[i] === "\\") raw += line[i++];
      raw += line[i++];
    }
    if (key in labels) throw new Error(`repeated label ${key}: ${line}`);
    labels[key] = unescaped(raw, true);
    i++;
    if (line[i] === ",") i++;
    else if (line[i] !== "}") throw new Error(`bad label separator: ${line}`);
  }
  return { labels, end: i + 1 };
}

export function parseScrape(text: string): Scrape {
  if (!text.endsWith("\n")) throw new Error("a scrape ends with a newline");
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: ParsedSample[] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, what, name = "", rest = ""] = meta;
      if (what === "HELP") help.set(name, unescaped(rest, false));
      else if (/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) types.set(name, rest);
      else throw new Error(`bad TYPE: ${line}`);
      continue;
    }
    if (line.startsWith("#") || line === "") continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) throw new Error(`bad sample: ${line}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) {
      const parsed = parseLabels(rest, 0);
      labels = parsed.labels;
      rest = rest.slice(parsed.end);
    }
    const parts = rest.split(" ");
    if (parts[0] !== "" || parts.length < 2 || parts.length > 3) throw new Error(`bad sample: ${line}`);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    if (!types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    samples.push({ name, labels, value: parseValue(parts[1] ?? "") });
  }
  return {
    help,
    types,
    samples,
    value(name, want = {}) {
      const same = (l: Record<string, string>) =>
        Object.keys(l).length === Object.keys(want).length &&
        Object.entries(want).every(([k, v]) => l[k] === v);
      const found = samples.filter((s) => s.name === name && same(s.labels));
      if (found.length !== 1)
        throw new Error(`${found.length} samples ${name}${JSON.stringify(want)} in the scrape`);
      return (found[0] as ParsedSample).value;
    },
  };
}
