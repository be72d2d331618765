/**
 * @module
 * The database of an OpenStack service on Galera: its databases (created utf8mb4), the MariaDB user
 * `<id>`@`%` with the db_<id> password, and ALL on each database. SQL goes to `mariadb` on the
 * bootstrap controller's socket (the deploy's root login) through stdin, so the password is
 * never in argv; Galera replicates the DDL to the other nodes.
 */

import { sqlString } from "../../hostkit/sql.ts";
import { HastackError } from "../../util/errors.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { secretNames } from "./oslo.ts";

export interface DatabaseWanted {
  /** The service id, also the MariaDB user name. */
  user: string;
  databases: string[];
}

/** Every privilege ALL grants on a database (MariaDB 10.3+), as mysql.db columns. */
const ALL_PRIVILEGES = [
  "Select",
  "Insert",
  "Update",
  "Delete",
  "Create",
  "Drop",
  "References",
  "Index",
  "Alter",
  "Create_tmp_table",
  "Lock_tables",
  "Create_view",
  "Show_view",
  "Create_routine",
  "Alter_routine",
  "Execute",
  "Event",
  "Trigger",
];

/** Names are identifiers we chose (service ids, `nova_api`): refuse anything else before it reaches SQL. */
function identifier(name: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw new HastackError(
      "E_OPENSTACK_SPEC",
      `Cannot use ${JSON.stringify(name)} as a database or user name`,
      {
        hint: "lowercase letters, digits and underscores, starting with a letter",
      },
    );
  return name;
}

/** Each fact the check wants, as [description, SQL boolean]. */
export function databaseFacts(wanted: DatabaseWanted, password: string): [string, string][] {
  const user = identifier(wanted.user);
  const facts: [string, string][] = [];
  for (const raw of wanted.databases) {
    const db = identifier(raw);
    // Existence only, not the default character set: a service's own migrations may change it
    // (Keystone's first one sets `DEFAULT CHARACTER SET utf8`), and a deploy that set it back
    // would fight them, reporting a change on every second deploy (it did, on the lab).
    facts.push([
      `database ${db}`,
      `(SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='${db}') = 1`,
    ]);
  }
  facts.push([
    `user '${user}'@'%' with its password`,
    `(SELECT COUNT(*) FROM mysql.user WHERE User='${user}' AND Host='%' AND authentication_string = PASSWORD(${sqlString(password)})) = 1`,
  ]);
  for (const raw of wanted.databases) {
    const db = identifier(raw);
    const privileges = ALL_PRIVILEGES.map((p) => `${p}_priv='Y'`).join(" AND ");
    facts.push([
      `ALL on ${db}.* to '${user}'@'%'`,
      `(SELECT COUNT(*) FROM mysql.db WHERE User='${user}' AND Host='%' AND Db='${db}' AND ${privileges}) = 1`,
    ]);
  }
  return facts;
}

/** One row of 0/1, one column per fact. */
export function databaseCheckSql(wanted: DatabaseWanted, password: string): string {
  const facts = databaseFacts(wanted, password);
  return `SELECT ${facts.map(([, expr]) => `IF(${expr}, 1, 0)`).join(", ")};\n`;
}

/**
 * Idempotent: IF NOT EXISTS everywhere, then ALTER USER so a changed secret replaces the old
 * password. A new database starts utf8mb4; an existing one keeps what its migrations made it.
 */
export function databaseApplySql(wanted: DatabaseWanted, password: string): string {
  const user = `'${identifier(wanted.user)}'@'%'`;
  const auth = `IDENTIFIED VIA mysql_native_password USING PASSWORD(${sqlString(password)})`;
  const statements: string[] = [];
  for (const raw of wanted.databases) {
    const db = identifier(raw);
    statements.push(
      `CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    );
  }
  statements.push(`CREATE USER IF NOT EXISTS ${user} ${auth}`, `ALTER USER ${user} ${auth}`);
  for (const raw of wanted.databases)
    statements.push(`GRANT ALL PRIVILEGES ON \`${identifier(raw)}\`.* TO ${user}`);
  return `${statements.join(";\n")};\n`;
}

/** Facts that do not hold, by description; reads `mariadb -N -B` output of databaseCheckSql. */
export function missingFromRow(wanted: DatabaseWanted, row: string): string[] {
  const values = row.trim().split("\t");
  return databaseFacts(wanted, "")
    .map(([name]) => name)
    .filter((_, i) => values[i] !== "1");
}

async function runSql(ctx: StepContext, wanted: DatabaseWanted, sql: string, doing: string): Promise<string> {
  const secret = secretNames(wanted.user).database;
  const r = await ctx.transport.exec(["mariadb", "-N", "-B"], {
    stdin: sql,
    timeoutMs: 60_000,
    signal: ctx.signal,
  });
  if (r.code !== 0) {
    // MariaDB quotes the statement near a syntax error: never let the password out with it.
    const stderr = r.stderr.trim().split(ctx.secret(secret)).join(`<secret:${secret}>`);
    throw new HastackError(
      "E_OPENSTACK_DATABASE",
      `Cannot ${doing} on ${ctx.host.name}: exit code ${r.code}: ${stderr.split("\n").slice(-3).join(" ")}`,
      { hint: "the galera steps must have run: is MariaDB in a Primary component on this controller?" },
    );
  }
  return r.stdout;
}

export function databaseStep(wanted: DatabaseWanted): StepSpec {
  const secret = secretNames(wanted.user).database;
  const what = `the ${wanted.databases.join(", ")} database${wanted.databases.length > 1 ? "s" : ""}`;
  const missing = async (ctx: StepContext) =>
    missingFromRow(
      wanted,
      await runSql(ctx, wanted, databaseCheckSql(wanted, ctx.secret(secret)), `check ${what}`),
    );
  return {
    id: "database",
    title: `Create ${what}, the MariaDB user ${wanted.user} and its grants`,
    on: "bootstrap",
    after: ["galera"],
    async check(ctx) {
      const gaps = await missing(ctx);
      if (gaps.length > 0) ctx.log.info(`${ctx.dryRun ? "would create" : "creating"}: ${gaps.join(", ")}`);
      return gaps.length === 0;
    },
    async apply(ctx) {
      await runSql(ctx, wanted, databaseApplySql(wanted, ctx.secret(secret)), `create ${what}`);
    },
  };
}
