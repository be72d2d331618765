import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HastackError } from "../../util/errors.ts";
import type { DiagnosticOutput, DiagnosticReport } from "./collect.ts";

/** One readable text: per host, each thing gathered with its command and exit code. */
export function formatReport(report: DiagnosticReport): string {
  const lines = [
    `hastack diagnose: cluster ${report.cluster}, gathered ${report.at}`,
    `window: ${report.since} .. ${report.until}`,
    `secrets of the site are masked as <secret:NAME>`,
  ];
  const byHost = new Map<string, DiagnosticOutput[]>();
  for (const o of report.outputs) byHost.set(o.host, [...(byHost.get(o.host) ?? []), o]);
  for (const [host, outputs] of byHost) {
    lines.push("", `${"=".repeat(20)} ${host} ${"=".repeat(20)}`);
    for (const o of outputs) {
      const code = o.code === undefined ? "not reached" : `exit ${o.code}`;
      lines.push(
        "",
        `--- ${o.service}.${o.id}: ${o.title} (${code}, ${(o.durationMs / 1000).toFixed(1)} s)`,
        `$ ${o.command}`,
      );
      lines.push(o.output.trimEnd() || "(no output)");
    }
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The report and each output as its own file (`<host>/<service>-<id>.txt`) in a gzipped tarball,
 * for a ticket or a vendor. Everything in it went through the same masking as the report.
 */
export async function writeTarball(report: DiagnosticReport, path: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "hastack-diagnose-"));
  const top = `hastack-diagnose-${report.cluster}`;
  try {
    await mkdir(join(dir, top), { mode: 0o700 });
    await writeFile(join(dir, top, "report.txt"), formatReport(report), { mode: 0o600 });
    for (const o of report.outputs) {
      await mkdir(join(dir, top, o.host), { recursive: true, mode: 0o700 });
      await writeFile(join(dir, top, o.host, `${o.service}-${o.id}.txt`), `$ ${o.command}\n${o.output}`, {
        mode: 0o600,
      });
    }
    const tar = spawnSync("tar", ["-czf", path, "-C", dir, top], { encoding: "utf8" });
    if (tar.status !== 0)
      throw new HastackError(
        "E_DIAGNOSE_TARBALL",
        `Cannot write ${path}: tar exit code ${tar.status}: ${tar.stderr.trim()}`,
      );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
