/**
 * @module
 * How the recovery actors (act-galera.ts, act-rabbitmq.ts) change a host: one command per step,
 * journalled before and after, and a failure that stops the recovery naming the host, the step
 * and the tool's last words. Waits are bounded and say what they saw last.
 */
import { toolFailure } from "../../hostkit/command.ts";
import type { ExecOptions, ExecResult, Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { RecoverJournal } from "./act-journal.ts";

export interface ActTiming {
  /** A bootstrapped node reaching Primary and Synced; a force-booted RabbitMQ node running. */
  bootstrapMs: number;
  /** A joining node reaching Synced: an SST copies the whole datadir, hence the larger bound. */
  joinMs: number;
  pollMs: number;
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Guesses, not measurements: the lab's datadirs are small, and a site's SST time grows with its
 * data. An operator whose join outlives the bound sees E_RECOVER_TIMEOUT and runs recover again
 * (the joiner keeps syncing meanwhile).
 */
export const DEFAULT_TIMING: ActTiming = {
  bootstrapMs: 300_000,
  joinMs: 1_800_000,
  pollMs: 2_000,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface ActContext {
  transport(host: string): Transport;
  journal: RecoverJournal;
  timing: ActTiming;
}

/**
 * Runs one step's command on `host`; throws E_RECOVER_STEP "Cannot <step> on <host>: exit code N:
 * <stderr>" (or the transport's own sentence) after journalling the failure.
 */
export async function runStep(
  ctx: ActContext,
  host: string,
  step: string,
  argv: string[],
  opts: ExecOptions & { shown?: string } = {},
): Promise<ExecResult> {
  const { shown, ...exec } = opts;
  // `shown` stands for the command when stdin carries it (SQL): what an operator would type.
  const command = shown ?? argv.join(" ");
  ctx.journal.write({ type: "action", host, step, command, status: "started" });
  const t = ctx.transport(host);
  let error: HastackError;
  try {
    const r = await t.exec(argv, exec);
    if (r.code === 0) {
      ctx.journal.write({ type: "action", host, step, command, status: "done" });
      return r;
    }
    error = toolFailure(t, "E_RECOVER_STEP", step, r);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    error = new HastackError("E_RECOVER_STEP", `Cannot ${step} on ${host}: ${why}`, { cause });
  }
  ctx.journal.write({ type: "action", host, step, command, status: "failed", error: error.message });
  throw error;
}

/** What a probe saw: done, and a few words for the journal and a timeout's message. */
export interface Seen {
  done: boolean;
  seen: string;
}

/** Polls `probe` until done or `boundMs` passed; E_RECOVER_TIMEOUT names host, step and last state. */
export async function waitUntil(
  ctx: ActContext,
  host: string,
  step: string,
  boundMs: number,
  probe: () => Promise<Seen>,
): Promise<void> {
  const start = ctx.timing.now();
  for (;;) {
    const s = await probe();
    if (s.done) {
      ctx.journal.write({ type: "wait", host, step, status: "done", seen: s.seen });
      return;
    }
    if (ctx.timing.now() - start >= boundMs) {
      ctx.journal.write({ type: "wait", host, step, status: "failed", seen: s.seen });
      throw new HastackError(
        "E_RECOVER_TIMEOUT",
        `Cannot ${step} on ${host}: not done after ${Math.round(boundMs / 1000)} s (last seen: ${s.seen})`,
      );
    }
    await ctx.timing.sleep(ctx.timing.pollMs);
  }
}
