import { HastackError } from "../util/errors.ts";

/**
 * Rendered files carry placeholders, never secret values. Only `materialize` (called when a file
 * is written to a host or to `render --out`) swaps real values in; every other path (plan, diffs,
 * logs, errors) shows `<secret:NAME>`.
 */
const placeholderPattern = /\{\{hastack-secret:([a-z][a-z0-9_]*)(?:\|(json))?\}\}/g;

/**
 * How a value is written in place of its placeholder: as it is, or escaped for the inside of a
 * JSON string (an operator's BMC password may hold a quote or a backslash).
 */
export type SecretEncoding = "raw" | "json";

export function secretPlaceholder(name: string, encoding: SecretEncoding = "raw"): string {
  return encoding === "raw" ? `{{hastack-secret:${name}}}` : `{{hastack-secret:${name}|${encoding}}}`;
}

export function materialize(text: string, values: Readonly<Record<string, string>>): string {
  const missing = new Set<string>();
  const out = text.replace(placeholderPattern, (_match, name: string, encoding?: string) => {
    const value = values[name];
    if (value === undefined) {
      missing.add(name);
      return "";
    }
    return encoding === "json" ? JSON.stringify(value).slice(1, -1) : value;
  });
  if (missing.size > 0) throw missingSecrets([...missing]);
  return out;
}

export function maskSecrets(text: string): string {
  return text.replace(placeholderPattern, (_match, name: string) => `<secret:${name}>`);
}

/** Names of the secrets a text refers to. */
export function secretsIn(text: string): string[] {
  return [...new Set([...text.matchAll(placeholderPattern)].map((m) => m[1] ?? ""))];
}

/**
 * Last line of defence for text that came from elsewhere (a remote stderr, an exception): any
 * literal secret value in it is replaced by its name.
 */
export function redact(text: string, values: Readonly<Record<string, string>>): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  const entries = Object.entries(values)
    .filter(([, v]) => v.length >= 6)
    .sort((a, b) => b[1].length - a[1].length);
  for (const [name, value] of entries) out = out.split(value).join(`<secret:${name}>`);
  return out;
}

export function missingSecrets(names: string[]): HastackError {
  return new HastackError(
    "E_SECRET_MISSING",
    `Cannot find secret(s) ${names.join(", ")} in the secrets file`,
    {
      hint: names.some((n) => n.startsWith("bmc_"))
        ? "BMC passwords are yours to provide: `hastack secrets set NAME` (reads the value from stdin)"
        : "run `hastack secrets init -i FILE` to generate missing secrets",
    },
  );
}

/**
 * Masks a host's copy of a file that may hold secret values we no longer know (the old value
 * after a rotation: `redact` only knows the current ones). Each rendered line with placeholders
 * becomes a pattern; a host line it matches gets the same placeholders masked. A host line that
 * only starts like one (the text before its first secret) is masked from there on. A file with
 * a line that is nothing but a secret (a cookie, a key) is not shown at all: undefined.
 */
export function maskLike(remote: string, rendered: string): string | undefined {
  const patterns: { exact: RegExp; prefix: string; masked: string; first: string }[] = [];
  for (const line of rendered.split("\n")) {
    const names = [...line.matchAll(placeholderPattern)].map((m) => m[1] ?? "");
    if (names.length === 0) continue;
    // split() puts both of the pattern's groups (name, encoding) between the parts.
    const parts = line.split(placeholderPattern).filter((_, i) => i % 3 === 0);
    if (parts.join("").trim() === "") return undefined;
    patterns.push({
      exact: new RegExp(`^${parts.map(escapeRegExp).join(".*?")}$`),
      prefix: parts[0] ?? "",
      masked: maskSecrets(line),
      first: names[0] ?? "",
    });
  }
  return remote
    .split("\n")
    .map((line) => {
      const same = patterns.find((p) => p.exact.test(line));
      if (same) return same.masked;
      const like = patterns.find((p) => p.prefix.trim() !== "" && line.startsWith(p.prefix));
      return like ? `${like.prefix}<secret:${like.first}>…` : line;
    })
    .join("\n");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
