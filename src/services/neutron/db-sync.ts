/**
 * @module
 * Neutron's schema, once on the bootstrap controller as the neutron user. Neutron's alembic
 * history has two branches (expand and contract), so the shared sync step, which compares one
 * revision, does not fit: `neutron-db-manage current` prints the database's revision on each
 * branch, marked `(head)` when it is that branch's newest, and the schema is current when there
 * are two and both are heads.
 */
import { rememberedSchemaCheck } from "../openstack/schema-memo.ts";
import { asUser } from "../openstack/sync-step.ts";
import type { StepSpec } from "../types.ts";
import { ML2_CONF, NEUTRON_CONF } from "./config.ts";

const SYNC_TIMEOUT_MS = 900_000;
const MEMO = { package: "python3-neutron", databases: ["neutron"] };
const CHECK_TIMEOUT_MS = 120_000;

/** `runuser -u neutron -- neutron-db-manage --config-file neutron.conf --config-file ml2_conf.ini ARGS`. */
export function neutronDbManage(...args: string[]): string[] {
  return asUser("neutron", [
    "neutron-db-manage",
    "--config-file",
    NEUTRON_CONF,
    "--config-file",
    ML2_CONF,
    ...args,
  ]);
}

export interface Revision {
  id: string;
  head: boolean;
}

/**
 * The revision lines of `current`: alembic prints each as `<rev>` plus indicators such as
 * ` (head)`, ` (branchpoint)`; neutron-db-manage adds `Running current for neutron ...` and `OK`,
 * and oslo.log may add warnings (with a timestamp, so never a lone word).
 */
export function parseCurrent(stdout: string): Revision[] {
  const out: Revision[] = [];
  for (const line of stdout.split("\n").map((l) => l.trim())) {
    const m = /^([0-9A-Za-z_]{4,})((?: \([a-z ]+\))*)$/.exec(line);
    if (!m?.[1] || m[1] === "OK") continue;
    out.push({ id: m[1], head: /\((effective )?head\)/.test(m[2] ?? "") });
  }
  return out;
}

/** true when both branches are at their heads; else why not, for the log. */
export function schemaCurrent(revisions: readonly Revision[]): true | string {
  if (revisions.length === 0) return "no revision in the database (never synced)";
  const behind = revisions.filter((r) => !r.head).map((r) => r.id);
  if (behind.length > 0) return `behind: ${behind.join(", ")} not a head`;
  // Expand and contract each have a head; one alone means a branch never ran.
  if (revisions.length < 2) return `only ${revisions[0]?.id} (one of the expand and contract branches)`;
  return true;
}

export const dbSyncStep: StepSpec = {
  id: "db-sync",
  title: "neutron-db-manage upgrade heads as neutron on one controller, when a branch is behind",
  on: "bootstrap",
  after: ["database"],
  timeoutMs: SYNC_TIMEOUT_MS + 2 * CHECK_TIMEOUT_MS,
  async check(ctx) {
    const state = await rememberedSchemaCheck(ctx, MEMO, async () => {
      const r = await ctx.transport.exec(neutronDbManage("current"), {
        timeoutMs: CHECK_TIMEOUT_MS,
        signal: ctx.signal,
      });
      // Any failure (the database unreachable): the upgrade then runs, and its error is the one shown.
      return r.code === 0 ? schemaCurrent(parseCurrent(r.stdout)) : `current: exit code ${r.code}`;
    });
    if (state !== true) ctx.log.info(`schema: ${state}`);
    return state === true;
  },
  async apply(ctx) {
    await ctx.run(neutronDbManage("upgrade", "heads"), { timeoutMs: SYNC_TIMEOUT_MS });
  },
};
