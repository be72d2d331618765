/**
 * @module
 * What a deploy run tells the world. The runner emits these; reporters draw them, the journal
 * stores them. Every text in them is already masked: no secret value ever reaches an event.
 */

export type NodeStatus =
  /** check said it was already in the wanted state */
  | "ok"
  /** apply ran */
  | "changed"
  | "failed"
  /** not run: something it waits for failed */
  | "blocked"
  /** finished in the run being resumed */
  | "resumed"
  /** dry run: check says apply would run */
  | "would-change"
  /** declared without check or apply: nothing was done, and it is not reported as ok */
  | "not-implemented";

export interface PlannedNode {
  key: string;
  step: string;
  title: string;
  host: string;
}

export interface PendingRestart {
  host: string;
  service: string;
  restart: string[];
  reload: string[];
}

export interface Counts {
  changed: number;
  ok: number;
  failed: number;
  blocked: number;
  resumed: number;
  wouldChange: number;
  notImplemented: number;
}

export type DeployEvent =
  | {
      type: "run-start";
      runId: string;
      dryRun: boolean;
      resumeOf?: string;
      fingerprint: string;
      limit?: string[];
      nodes: PlannedNode[];
      /** Node keys finished in earlier runs (resume): kept so a journal stands alone. */
      done: string[];
      pendingRestarts: PendingRestart[];
      /** Services the site enables that this hastack only declares: nothing of them is deployed. */
      notImplemented?: string[];
    }
  | { type: "step-start"; key: string; step: string; host: string; attempt: number }
  | {
      type: "step-end";
      key: string;
      step: string;
      host: string;
      status: NodeStatus;
      durationMs: number;
      /** The error (failed), the dependency (blocked), or a short note. */
      message?: string;
      code?: string;
    }
  | { type: "note"; host: string; step: string; text: string }
  | { type: "file-diff"; host: string; step: string; path: string; diff: string }
  | ({ type: "restart-scheduled" } & PendingRestart)
  | { type: "restart-done"; host: string; service: string }
  | { type: "run-end"; status: "ok" | "failed"; counts: Counts; durationMs: number };

export function emptyCounts(): Counts {
  return { changed: 0, ok: 0, failed: 0, blocked: 0, resumed: 0, wouldChange: 0, notImplemented: 0 };
}

/** "3 changed, 12 ok, 1 failed" plus the rarer kinds only when present; "0 changed" on a no-op. */
export function formatCounts(c: Counts, dryRun = false): string {
  const parts = dryRun ? [`${c.wouldChange} would change`] : [`${c.changed} changed`];
  parts.push(`${c.ok} ok`, `${c.failed} failed`);
  if (c.blocked) parts.push(`${c.blocked} blocked`);
  if (c.resumed) parts.push(`${c.resumed} done before (resumed)`);
  if (c.notImplemented) parts.push(`${c.notImplemented} not implemented`);
  return parts.join(", ");
}
