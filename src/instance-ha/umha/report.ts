/**
 * @module
 * The import's words: the YAML fragment to merge, the secrets it adds (names only), and one line
 * per UMHA key or host saying what became of it.
 */
import { stringify } from "yaml";
import type { UmhaImport } from "./import.ts";

/** The settings as one YAML document rooted like the inventory (hosts:, instance_ha:). */
export function importFragment(plan: UmhaImport): string {
  const root: Record<string, unknown> = {};
  for (const s of plan.settings) {
    let node = root;
    for (const key of s.path.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    const last = s.path.at(-1);
    if (last !== undefined) node[last] = s.value;
  }
  return plan.settings.length === 0 ? "" : stringify(root);
}

export function importLines(plan: UmhaImport, written: boolean): string[] {
  const secrets = Object.keys(plan.secrets).sort();
  const fragment = importFragment(plan);
  const lines = [`UMHA's files in ${plan.dir} -> ${plan.inventory}`];
  for (const note of plan.notes) lines.push(`note: ${note}`);
  lines.push("");
  if (fragment === "") lines.push("The inventory already has every value UMHA's files give.");
  else {
    lines.push(written ? "Merged into the inventory:" : "To merge into the inventory:");
    lines.push(
      ...fragment
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`),
    );
  }
  if (secrets.length > 0)
    lines.push(
      "",
      `${written ? "Stored in" : "Secrets to store in"} ${plan.secretsFile} (values not shown): ${secrets.join(", ")}`,
    );
  lines.push("", "Report:");
  const width = Math.max(...plan.report.map((r) => r.outcome.length));
  for (const r of plan.report) lines.push(`  ${r.outcome.padEnd(width)}  ${r.subject}: ${r.detail}`);
  if (!written && (fragment !== "" || secrets.length > 0))
    lines.push("", "Nothing written: run again with --write to edit the inventory and store the secrets.");
  return lines;
}
