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
  /**
   * Files the config names that may be new or changed too (HAProxy's certificate): each is
   * written as a candidate beside it, and the config checked names the candidates.
   */
  companions: (ctx: StepContext) => string[] = () => [],
): StepSpec {
  const validated = new Map<string, string>();
  const candidateOf = (p: string) => `${p.replace(/[^/]+$/, "")}.hastack-candidate-${p.replace(/^.*\//, "")}`;
  const candidate = `${path.replace(/[^/]+$/, "")}.hastack-candidate`;
  const wanted = (ctx: StepContext) => {
    const others = companions(ctx);
    let text = ctx.renderedFile(path);
    for (const other of others) text = text.split(other).join(candidateOf(other));
    return { text, others: others.map((p) => ({ path: p, text: ctx.renderedFile(p) })) };
  };
  const hashOf = (w: ReturnType<typeof wanted>) =>
    sha256([w.text, ...w.others.map((o) => o.text)].join("\0"));
  return {
    ...base,
    async check(ctx) {
      const w = wanted(ctx);
      if (validated.get(ctx.host.name) === hashOf(w)) return true;
      const paths = [path, ...w.others.map((o) => o.path)];
      const found = await ctx.transport.stat(paths);
      return [ctx.renderedFile(path), ...w.others.map((o) => o.text)].every(
        (text, i) => found.get(paths[i] as string)?.sha256 === sha256(text),
      );
    },
    async apply(ctx) {
      const w = wanted(ctx);
      const written = [candidate, ...w.others.map((o) => candidateOf(o.path))];
      await ctx.transport.writeFile(candidate, w.text, { owner: "root", group: "root", mode: 0o600 });
      for (const o of w.others)
        await ctx.transport.writeFile(candidateOf(o.path), o.text, {
          owner: "root",
          group: "root",
          mode: 0o600,
        });
      try {
        await ctx.run(checker(candidate));
      } finally {
        await ctx.transport.exec(["rm", "-f", ...written]);
      }
      validated.set(ctx.host.name, hashOf(w));
    },
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
