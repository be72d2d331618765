import type { CheckResult, HealthState, StatusReport } from "./types.ts";

const marks: Record<HealthState, string> = { ok: "ok  ", degraded: "WARN", down: "DOWN", unknown: "??  " };
const colors: Record<HealthState, string> = { ok: "32", degraded: "33", down: "31", unknown: "35" };

/** One screen: a block per layer (service), a line per check, the verdict last. */
export function formatStatus(report: StatusReport, options: { color?: boolean } = {}): string {
  const paint = (state: HealthState, text: string) =>
    options.color ? `\x1b[${colors[state]}m${text}\x1b[0m` : text;
  const lines = [`hastack status: cluster ${report.cluster} at ${report.at}`];
  const byService = new Map<string, CheckResult[]>();
  for (const c of report.checks) byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  for (const [service, checks] of byService) {
    lines.push("", service);
    for (const c of checks) {
      const where = c.host ? `${c.title} @ ${c.host}` : c.title;
      lines.push(`  ${paint(c.state, marks[c.state])} ${where.padEnd(40)} ${c.summary}`);
    }
  }
  if (report.notImplemented.length > 0) {
    lines.push("", "not implemented (declared only: not deployed, not checked)");
    for (const id of report.notImplemented) lines.push(`  --   ${id}`);
  }
  if (report.warnings.length > 0) {
    lines.push("", "warnings (accepted in the inventory, repeated on every run)");
    for (const w of report.warnings) lines.push(`  ${paint("degraded", "WARN")} ${w}`);
  }
  const verdictState: HealthState =
    report.verdict === "healthy" ? "ok" : report.verdict === "degraded" ? "degraded" : "down";
  lines.push("", paint(verdictState, report.headline));
  return `${lines.join("\n")}\n`;
}
