/**
 * @module
 * The smoke run's bookkeeping: each step timed, its verdict kept (ok, failed, or not run with the
 * reason), and a failed step ends the run; cleanups registered as resources are made and run
 * last, in reverse, whatever happened.
 */
import { HastackError } from "../../util/errors.ts";

export type SmokeVerdict = "ok" | "failed" | "not-run";

export interface SmokeStepResult {
  name: string;
  verdict: SmokeVerdict;
  seconds: number;
  detail: string;
}

export interface SmokeRun {
  /** Runs `fn` as the step `name`; its return value is the step's detail. Throws on failure. */
  step(name: string, fn: () => Promise<string>): Promise<void>;
  /** A step that cannot run here, with the reason: never counted as ok. */
  notRun(name: string, reason: string): void;
  /**
   * Something to undo at the end (deletes), run in reverse order of registration. The returned
   * function drops it once the run has undone it itself (a volume detached and deleted).
   */
  onCleanup(what: string, fn: () => Promise<void>): () => void;
  /** What the cleanups would delete, newest first. */
  pending(): string[];
  /** Runs the cleanups; their failures are kept as steps of their own. */
  cleanup(): Promise<void>;
  readonly results: readonly SmokeStepResult[];
}

export function smokeRun(report: (r: SmokeStepResult) => void): SmokeRun {
  const results: SmokeStepResult[] = [];
  const cleanups: { what: string; fn: () => Promise<void> }[] = [];
  const record = (r: SmokeStepResult) => {
    results.push(r);
    report(r);
  };
  async function timed(name: string, fn: () => Promise<string>): Promise<void> {
    const started = performance.now();
    try {
      const detail = await fn();
      record({ name, verdict: "ok", seconds: (performance.now() - started) / 1000, detail });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      record({ name, verdict: "failed", seconds: (performance.now() - started) / 1000, detail });
      throw new HastackError("E_SMOKE_STEP", `Smoke step "${name}" failed: ${detail}`, { cause: error });
    }
  }
  return {
    results,
    step: timed,
    notRun(name, reason) {
      record({ name, verdict: "not-run", seconds: 0, detail: reason });
    },
    onCleanup(what, fn) {
      const entry = { what, fn };
      cleanups.push(entry);
      return () => {
        const index = cleanups.indexOf(entry);
        if (index !== -1) cleanups.splice(index, 1);
      };
    },
    pending() {
      return cleanups.map((c) => c.what).reverse();
    },
    async cleanup() {
      while (cleanups.length > 0) {
        const c = cleanups.pop();
        if (!c) break;
        await timed(`clean up ${c.what}`, async () => {
          await c.fn();
          return "deleted";
        }).catch(() => undefined);
      }
    },
  };
}

/** Polls `probe` every `intervalMs` until it returns a value, or throws E_SMOKE_STEP after `timeoutMs`. */
export async function pollFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs: number; lastSeen?: () => string },
): Promise<T> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      const seen = opts.lastSeen?.();
      throw new HastackError(
        "E_SMOKE_STEP",
        `Cannot ${what}: not within ${Math.round(opts.timeoutMs / 1000)} s${seen ? `; last seen: ${seen}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}
