/**
 * @module
 * A schema check remembered: whether a service's schema is current depends on the installed code
 * and on the revisions its databases store, so once the manage tool has said "current", the same
 * package version with the same `alembic_version` rows is current too, and the tool need not run
 * again. Each manage tool is a Python start importing the service, 35-75 s on the lab's busy ctl1
 * while a no-op deploy checks eight services at once; the fingerprint is one dpkg-query and one
 * SQL read. A restored database, a new package or a memo from another controller (the bootstrap
 * node changed) changes or lacks the fingerprint, and the tool runs as before.
 */
import type { StepContext } from "../types.ts";

/** What a schema's state depends on; the memo is named after the step (`nova.api-db-sync`). */
export interface SchemaMemo {
  /** The Debian package whose version is the code's, e.g. "python3-nova". */
  package: string;
  /** The databases whose `alembic_version` rows are the stored schema. */
  databases: string[];
}

export const MEMO_DIR = "/var/lib/hastack/schema-memo";

/** One query per database; a missing table is an error mariadb --force skips (no row). */
export function revisionsSql(databases: readonly string[]): string {
  return databases
    .map((db) => {
      if (!/^[a-z][a-z0-9_]*$/.test(db)) throw new Error(`not a database name: ${db}`);
      return `SELECT '${db}', IFNULL(GROUP_CONCAT(version_num ORDER BY version_num SEPARATOR ','), '-') FROM \`${db}\`.alembic_version;`;
    })
    .join("\n");
}

/** The fingerprint from the script's output, or undefined when the package is not installed. */
export function parseMemoOutput(
  stdout: string,
  databases: readonly string[],
): { fingerprint?: string; memo: string } {
  const lines = stdout.split("\n");
  const pkg = lines.find((l) => l.startsWith("pkg="))?.slice(4) ?? "";
  const memo = lines.find((l) => l.startsWith("memo="))?.slice(5) ?? "";
  const revisions = new Map(
    lines.filter((l) => l.includes("\t")).map((l) => l.split("\t") as [string, string]),
  );
  if (pkg === "") return { memo };
  const dbs = databases.map((db) => `${db}=${revisions.get(db) ?? "none"}`);
  return { fingerprint: [pkg, ...dbs].join(" "), memo };
}

async function read(ctx: StepContext, memo: SchemaMemo) {
  const r = await ctx.transport.exec(
    [
      "sh",
      "-c",
      `printf "pkg=%s\\n" "$(dpkg-query -W -f='\${Version}' "$1" 2>/dev/null)"; printf "memo=%s\\n" "$(cat "$2" 2>/dev/null)"; mariadb -N -B --force 2>/dev/null; true`,
      "sh",
      memo.package,
      `${MEMO_DIR}/${ctx.step}`,
    ],
    { stdin: `${revisionsSql(memo.databases)}\n`, timeoutMs: 60_000, signal: ctx.signal },
  );
  return parseMemoOutput(r.stdout, memo.databases);
}

/**
 * `check`'s answer, or true without running it when the fingerprint is the one remembered the
 * last time it said true. A true answer is remembered (not under --dry-run: a check writes
 * nothing then).
 */
export async function rememberedSchemaCheck(
  ctx: StepContext,
  memo: SchemaMemo,
  check: () => Promise<true | string>,
): Promise<true | string> {
  const before = await read(ctx, memo);
  if (before.fingerprint && before.fingerprint === before.memo) return true;
  const state = await check();
  if (state === true && before.fingerprint && !ctx.dryRun) {
    // Read again: the check ran after the fingerprint, and a sync may have finished in between.
    const now = await read(ctx, memo);
    if (now.fingerprint === before.fingerprint)
      await ctx.transport.exec(
        [
          "sh",
          "-c",
          'install -d -m 0700 "$1" && printf "%s" "$2" > "$1/$3"',
          "sh",
          MEMO_DIR,
          now.fingerprint,
          ctx.step,
        ],
        { timeoutMs: 30_000, signal: ctx.signal },
      );
  }
  return state;
}
