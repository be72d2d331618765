/**
 * @module
 * An OpenStack service's schema sync as data (`spec.sync`): once, on the bootstrap controller,
 * as the service's own user, skipped while the manage tool's answer says the schema is current.
 * Keystone keeps its own step (src/services/keystone/steps.ts); the others share this one.
 */
import { z } from "zod";
import { parseToolOutput } from "../../hostkit/command.ts";
import { lastLine } from "../../util/text.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { rememberedSchemaCheck } from "./schema-memo.ts";
import type { SchemaCheck, SchemaSync } from "./spec.ts";

const DEFAULT_TIMEOUT_MS = 900_000;
/** One check: the tool connects to the database through its VIP, nothing more. */
const CHECK_TIMEOUT_MS = 120_000;

/** `runuser -u USER -- ARGV`: the tool writes its log as the service, which must open it later. */
export function asUser(user: string, argv: readonly string[]): string[] {
  return ["runuser", "-u", user, "--", ...argv];
}

/** An alembic revision id as alembic prints it, or "None" for a database no migration has touched. */
const Revision = z.string().regex(/^([0-9a-f]{12}|None)$/, "an alembic revision id or None");

/** The last line of stdout: oslo.log may print warnings before it, on stdout too. */
function revisionOf(ctx: StepContext, tool: string, stdout: string): string {
  return parseToolOutput(ctx.transport, tool, Revision, stdout.trim().split("\n").at(-1)?.trim() ?? "");
}

/** true when current; else why not, for the log ("behind: ...", "exit code 1: ..."). */
export async function schemaState(
  ctx: StepContext,
  user: string,
  check: SchemaCheck,
): Promise<true | string> {
  const exec = (argv: string[]) =>
    ctx.transport.exec(asUser(user, argv), { timeoutMs: CHECK_TIMEOUT_MS, signal: ctx.signal });
  if (check.kind === "exit-code") {
    const r = await exec(check.argv);
    if (r.code === check.current) return true;
    // Any other code (the database unreachable, a tool error): the sync then runs and its own
    // failure, stderr and all, is the error the operator sees.
    return check.behind.includes(r.code)
      ? `behind (${check.argv.join(" ")}: exit code ${r.code}: ${lastLine(r.stdout)})`
      : `${check.argv.join(" ")}: exit code ${r.code}`;
  }
  // Both at once: each is a Python start that imports the service (seconds on a busy controller),
  // and neither depends on the other.
  const [head, current] = await Promise.all([exec(check.head), exec(check.current)]);
  // The head comes from the installed code, not the database: failing here is a broken package.
  if (head.code !== 0) return `cannot read the code's alembic head: exit code ${head.code}`;
  const want = revisionOf(ctx, "the alembic head", head.stdout);
  if (current.code !== 0) return `${check.current.join(" ")}: exit code ${current.code}`;
  const have = revisionOf(ctx, check.current.join(" "), current.stdout);
  return have === want ? true : `behind (database at ${have}, code at ${want})`;
}

export function syncStep(sync: SchemaSync): StepSpec {
  const timeoutMs = sync.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    id: "db-sync",
    title: `${sync.apply.join(" ")} as ${sync.user} on one controller, when the schema is behind`,
    on: "bootstrap",
    after: ["database"],
    // Check, apply and the check again all fit in one attempt.
    timeoutMs: timeoutMs + 2 * CHECK_TIMEOUT_MS,
    async check(ctx) {
      const state = await rememberedSchemaCheck(ctx, sync.memo, () =>
        schemaState(ctx, sync.user, sync.check),
      );
      if (state !== true) ctx.log.info(`schema: ${state}`);
      return state === true;
    },
    async apply(ctx) {
      await ctx.run(asUser(sync.user, sync.apply), { timeoutMs });
    },
  };
}
