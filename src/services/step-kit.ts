/**
 * @module
 * Small helpers the services' deploy steps share: waiting for a cluster to converge and validating
 * a rendered file before the engine writes it. What a step does on a host (systemd, SQL, TCP,
 * HAProxy's runtime API, tools' JSON) is in src/hostkit.
 */
import { createHash } from "node:crypto";
import { HastackError } from "../util/errors.ts";
import type { StepContext, StepSpec } from "./types.ts";

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `probe` until it says true. A string answer means "not yet, because ...": the last one
 * goes into the error so a timeout says what was still wrong, not only that it timed out.
 */
export async function waitUntil(
  ctx: StepContext,
  what: string,
  probe: () => Promise<true | string>,
  opts: WaitOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const intervalMs = opts.intervalMs ?? 1000;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    if (ctx.signal.aborted)
      throw new HastackError("E_STEP_TIMEOUT", `Cannot ${what} on ${ctx.host.name}: aborted`);
    const answer = await probe().catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
    if (answer === true) return;
    last = answer;
    if (Date.now() > deadline) {
      throw new HastackError(
        "E_STEP_WAIT",
        `Cannot ${what} on ${ctx.host.name}: still not there after ${Math.round(timeoutMs / 1000)} s: ${last}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A step that runs a config checker (`haproxy -c`, `keepalived -t`) on the rendered file before
 * the engine's files step writes it, so a config the daemon rejects never replaces a working one.
 * In the wanted state when the file on the host already is the rendered one, or when this run
 * validated exactly that content.
 */
export function validateBeforeWrite(
  base: Omit<StepSpec, "check" | "apply">,
  path: string,
  checker: (candidate: string) => string[],
): StepSpec {
  const validated = new Map<string, string>();
  const candidate = `${path.replace(/[^/]+$/, "")}.hastack-candidate`;
  return {
    ...base,
    async check(ctx) {
      const want = sha256(ctx.renderedFile(path));
      if (validated.get(ctx.host.name) === want) return true;
      return (await ctx.transport.stat([path])).get(path)?.sha256 === want;
    },
    async apply(ctx) {
      const text = ctx.renderedFile(path);
      await ctx.transport.writeFile(candidate, text, { owner: "root", group: "root", mode: 0o600 });
      try {
        await ctx.run(checker(candidate));
      } finally {
        await ctx.transport.exec(["rm", "-f", candidate]);
      }
      validated.set(ctx.host.name, sha256(text));
    },
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
