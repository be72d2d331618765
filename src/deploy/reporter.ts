/**
 * @module
 * Reporters draw a run for people or machines; step code never talks to them directly (it logs,
 * and the runner turns results into events).
 */
import type { Writable } from "node:stream";
import { type DeployEvent, formatCounts } from "./events.ts";

export interface Reporter {
  emit(event: DeployEvent): void;
  /** Flushes and releases the terminal; called once after run-end. */
  close(): Promise<void>;
}

/** Sends every event to several reporters (the journal is one). */
export function fanOut(...reporters: Reporter[]): Reporter {
  return {
    emit: (event) => {
      for (const r of reporters) r.emit(event);
    },
    close: async () => {
      await Promise.all(reporters.map((r) => r.close()));
    },
  };
}

/** `--json`: one JSON object per line, for scripts and the web UI. */
export function jsonReporter(out: Writable = process.stdout): Reporter {
  return {
    emit: (event) => {
      out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    },
    close: async () => {},
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

/**
 * Non-TTY and tests: one line per finished step. `quiet` keeps only failures, diffs and the
 * summary.
 */
export function plainReporter(out: Writable = process.stdout, opts: { quiet?: boolean } = {}): Reporter {
  let dryRun = false;
  const write = (line: string) => out.write(`${line}\n`);
  return {
    emit: (e) => {
      switch (e.type) {
        case "run-start":
          dryRun = e.dryRun;
          // Said even when quiet: an operator must not take a declared service for a deployed one.
          if (e.notImplemented?.length)
            write(`not implemented (declared only, nothing deployed): ${e.notImplemented.join(", ")}`);
          if (!opts.quiet) {
            const what = e.dryRun ? "dry run" : e.resumeOf ? `resuming ${e.resumeOf}` : "deploy";
            write(
              `${what} ${e.runId}: ${e.nodes.length} steps on ${new Set(e.nodes.map((n) => n.host)).size} host(s)`,
            );
          }
          break;
        case "step-end":
          if (opts.quiet && e.status !== "failed") break;
          if (e.status === "ok" && !dryRun && opts.quiet) break;
          write(
            `${e.host.padEnd(12)} ${e.step.padEnd(32)} ${e.status.padEnd(12)} ${seconds(e.durationMs)}${e.message ? `  ${e.message}` : ""}`,
          );
          break;
        case "note":
          if (!opts.quiet) write(`${e.host.padEnd(12)} ${e.step.padEnd(32)} ${e.text}`);
          break;
        case "file-diff":
          write(`${e.host}: ${e.path}\n${e.diff.trimEnd()}`);
          break;
        case "run-end":
          write(`${formatCounts(e.counts, dryRun)} in ${seconds(e.durationMs)}`);
          break;
        default:
          break;
      }
    },
    close: async () => {},
  };
}
