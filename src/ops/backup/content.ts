/**
 * @module
 * What a backup must contain, as SQL and as checks: the canary row `backup run` writes through
 * Galera before it takes the backup, the databases and the row count of every table, and the
 * comparison `backup verify` makes between the manifest and the scratch restore. The SQL is the
 * same against the running Galera and the scratch server; only how it is reached differs.
 */

import { sqlString } from "../../hostkit/sql.ts";
import { HastackError } from "../../util/errors.ts";
import type { Manifest, TableCount } from "./manifest.ts";

export const CANARY_DB = "hastack_backup";
export const CANARY_TABLE = `${CANARY_DB}.canary`;

/** MariaDB's own schemas: not the site's data, and not restored into a site from a backup. */
const SYSTEM = ["mysql", "information_schema", "performance_schema", "sys"].map(sqlString).join(", ");

export function canarySql(id: string, token: string, host: string): string {
  return [
    `CREATE DATABASE IF NOT EXISTS ${CANARY_DB}`,
    // A primary key: Galera replicates row changes of keyed tables only reliably.
    `CREATE TABLE IF NOT EXISTS ${CANARY_TABLE} (id CHAR(16) PRIMARY KEY, token CHAR(32) NOT NULL, written_at DATETIME(6) NOT NULL, host VARCHAR(255) NOT NULL) ENGINE=InnoDB`,
    `INSERT INTO ${CANARY_TABLE} VALUES (${sqlString(id)}, ${sqlString(token)}, UTC_TIMESTAMP(6), ${sqlString(host)})`,
  ].join(";\n");
}

export function canaryReadSql(id: string): string {
  return `SELECT token FROM ${CANARY_TABLE} WHERE id = ${sqlString(id)}`;
}

/** Pruned backups' canary rows go with them. */
export function canaryPruneSql(ids: readonly string[]): string {
  return `DELETE FROM ${CANARY_TABLE} WHERE id IN (${ids.map(sqlString).join(", ")})`;
}

export const DATABASES_SQL = `SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${SYSTEM}) ORDER BY 1`;

export const TABLES_SQL = `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (${SYSTEM}) ORDER BY 1, 2`;

function ident(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}

/**
 * Exact counts of the given tables in one consistent snapshot (InnoDB MVCC: every table as of
 * the same moment). One statement: each `mariadb` call costs a connection.
 */
export function countSql(tables: readonly { db: string; table: string }[]): string {
  if (tables.length === 0) return "SELECT 1 FROM DUAL WHERE FALSE";
  const selects = tables.map(
    (t) => `SELECT ${sqlString(t.db)}, ${sqlString(t.table)}, COUNT(*) FROM ${ident(t.db)}.${ident(t.table)}`,
  );
  return `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;\n${selects.join("\nUNION ALL ")};\nCOMMIT`;
}

export interface Counted {
  db: string;
  table: string;
  rows: number;
}

/** Rows of countSql, checked: three columns, a whole count. */
export function parseCounts(host: string, rows: string[][]): Counted[] {
  return rows.map((r) => {
    const [db, table, n] = r;
    if (r.length !== 3 || !db || !table || !n || !/^\d+$/.test(n))
      throw new HastackError(
        "E_TOOL_OUTPUT",
        `Cannot read the row counts on ${host}: unexpected row ${JSON.stringify(r.join("\t").slice(0, 120))}`,
      );
    return { db, table, rows: Number(n) };
  });
}

export function parseTables(host: string, rows: string[][]): { db: string; table: string }[] {
  return rows.map((r) => {
    const [db, table] = r;
    if (r.length !== 2 || !db || !table)
      throw new HastackError(
        "E_TOOL_OUTPUT",
        `Cannot read the table list on ${host}: unexpected row ${JSON.stringify(r.join("\t").slice(0, 120))}`,
      );
    return { db, table };
  });
}

/** The manifest's tables: each table's count before and after the backup. */
export function tableCounts(before: readonly Counted[], after: readonly Counted[]): TableCount[] {
  const key = (c: { db: string; table: string }) => `${c.db}.${c.table}`;
  const later = new Map(after.map((c) => [key(c), c.rows]));
  // A table dropped during the backup is in `before` only: it cannot be required afterwards.
  return before
    .filter((c) => later.has(key(c)))
    .map((c) => ({ db: c.db, table: c.table, before: c.rows, after: later.get(key(c)) ?? c.rows }));
}

export interface Restored {
  databases: readonly string[];
  counts: readonly Counted[];
  /** The canary rows found for the backup's id (their tokens). */
  canary: readonly string[];
}

export interface Finding {
  ok: boolean;
  check: string;
  detail: string;
}

/**
 * The verdict of a scratch restore against its manifest. A table's restored count must lie
 * between its counts before and after the backup (the backup's consistent point is between the
 * two); a table that did not change in that window must match exactly. Every database and the
 * canary row with the manifest's token must be there.
 */
export function compareRestore(m: Manifest, r: Restored): Finding[] {
  const out: Finding[] = [];
  const dbs = new Set(r.databases);
  const missingDbs = m.databases.filter((d) => !dbs.has(d));
  out.push({
    ok: missingDbs.length === 0,
    check: "databases",
    detail:
      missingDbs.length === 0
        ? `${m.databases.length} of ${m.databases.length} present`
        : `missing: ${missingDbs.join(", ")}`,
  });
  const got = new Map(r.counts.map((c) => [`${c.db}.${c.table}`, c.rows]));
  const wrong: string[] = [];
  for (const t of m.tables) {
    const rows = got.get(`${t.db}.${t.table}`);
    const [lo, hi] = [Math.min(t.before, t.after), Math.max(t.before, t.after)];
    if (rows === undefined) wrong.push(`${t.db}.${t.table} missing`);
    else if (rows < lo || rows > hi)
      wrong.push(`${t.db}.${t.table} has ${rows} rows, ${lo === hi ? lo : `${lo}-${hi}`} at backup time`);
  }
  out.push({
    ok: wrong.length === 0,
    check: "tables and row counts",
    detail:
      wrong.length === 0
        ? `${m.tables.length} tables, ${m.tables.reduce((n, t) => n + t.after, 0)} rows as recorded`
        : `${wrong.length} of ${m.tables.length} wrong: ${wrong.slice(0, 5).join("; ")}${wrong.length > 5 ? "; ..." : ""}`,
  });
  const canaryOk = r.canary.length === 1 && r.canary[0] === m.canary.token;
  out.push({
    ok: canaryOk,
    check: "canary row",
    detail: canaryOk
      ? `${CANARY_TABLE} id ${m.id} found with its token`
      : r.canary.length === 0
        ? `${CANARY_TABLE} has no row with id ${m.id}`
        : `${CANARY_TABLE} id ${m.id} has another token than the manifest's`,
  });
  return out;
}
