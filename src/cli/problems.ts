import { relative } from "node:path";
import type { Problem } from "../util/errors.ts";

/** `file:line:col: error[CODE]: message` then an indented hint, as compilers print. */
export function formatProblems(problems: readonly Problem[]): string {
  const lines: string[] = [];
  for (const p of sortProblems(problems)) {
    const where = p.pos ? `${displayPath(p.pos.file)}:${p.pos.line}:${p.pos.col}: ` : "";
    lines.push(`${where}${p.severity}[${p.code}]: ${p.message}`);
    if (p.hint) lines.push(`  hint: ${p.hint}`);
  }
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;
  lines.push(`${errors} error(s), ${warnings} warning(s)`);
  return lines.join("\n");
}

export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0),
  );
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}
