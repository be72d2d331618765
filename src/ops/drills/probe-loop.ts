/**
 * Fires a probe every `intervalMs` without waiting for the previous one (an outage makes each
 * attempt slow; waiting would blur the edges), and keeps every attempt's start time and outcome.
 */
export interface Attempt {
  /** ms since the loop started */
  at: number;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ProbeLoop {
  stop(): Promise<Attempt[]>;
  attempts(): readonly Attempt[];
  /**
   * Resolves true when, after a failure, attempts that started after `since` succeeded `count`
   * times in a row. With `requireFailure` false, `count` successes in a row are enough when
   * nothing failed (a fault that should not interrupt the service).
   */
  waitForRecovery(
    since: number,
    count: number,
    timeoutMs: number,
    requireFailure?: boolean,
  ): Promise<boolean>;
  now(): number;
}

export function startProbeLoop(probe: () => Promise<void>, intervalMs = 50, maxInFlight = 64): ProbeLoop {
  const t0 = performance.now();
  const attempts: Attempt[] = [];
  const pending = new Set<Promise<void>>();
  let stopped = false;
  const now = () => performance.now() - t0;
  const timer = setInterval(() => {
    if (stopped || pending.size >= maxInFlight) return;
    const at = now();
    const p = probe()
      .then(
        () => void attempts.push({ at, ok: true, ms: now() - at }),
        (error: unknown) =>
          void attempts.push({
            at,
            ok: false,
            ms: now() - at,
            error: error instanceof Error ? error.message : String(error),
          }),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  }, intervalMs);

  async function stop(): Promise<Attempt[]> {
    stopped = true;
    clearInterval(timer);
    await Promise.allSettled([...pending]);
    return sorted();
  }
  function sorted(): Attempt[] {
    return [...attempts].sort((a, b) => a.at - b.at);
  }
  async function waitForRecovery(
    since: number,
    count: number,
    timeoutMs: number,
    requireFailure = true,
  ): Promise<boolean> {
    const deadline = now() + timeoutMs;
    while (now() < deadline) {
      const after = sorted().filter((a) => a.at >= since);
      const tail = after.slice(-count);
      const sawFailure = after.some((a) => !a.ok);
      if ((sawFailure || !requireFailure) && tail.length === count && tail.every((a) => a.ok)) return true;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    return false;
  }
  return { stop, attempts: sorted, waitForRecovery, now };
}

export interface Downtime {
  /** Longest run of failed attempts after the fault, from its first failed start to the next success's start. */
  downtimeMs: number;
  firstFailureAt?: number;
  recoveredAt?: number;
  failed: number;
  total: number;
  /** The errors seen, most common first. */
  errors: string[];
}

/** Measures the outage a fault injected at `faultAt` caused. */
export function measureDowntime(attempts: readonly Attempt[], faultAt: number): Downtime {
  const after = attempts.filter((a) => a.at >= faultAt);
  let worst = 0;
  let firstFailureAt: number | undefined;
  let recoveredAt: number | undefined;
  let runStart: number | undefined;
  for (const a of after) {
    if (!a.ok) {
      runStart ??= a.at;
      firstFailureAt ??= a.at;
      continue;
    }
    if (runStart !== undefined) {
      if (a.at - runStart > worst) {
        worst = a.at - runStart;
        recoveredAt = a.at;
      }
      runStart = undefined;
    }
  }
  const last = after.at(-1);
  if (runStart !== undefined && last) worst = Math.max(worst, last.at + last.ms - runStart);
  const counts = new Map<string, number>();
  for (const a of after) if (a.error) counts.set(a.error, (counts.get(a.error) ?? 0) + 1);
  const result: Downtime = {
    downtimeMs: worst,
    failed: after.filter((a) => !a.ok).length,
    total: after.length,
    errors: [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([e, n]) => `${e} (x${n})`),
  };
  if (firstFailureAt !== undefined) result.firstFailureAt = firstFailureAt;
  if (recoveredAt !== undefined) result.recoveredAt = recoveredAt;
  return result;
}
