/**
 * @module
 * The tables of the engine's history database (hastack_ha on the site's Galera), created by the
 * store itself so an engine never depends on a deploy step having run a migration.
 *
 * Galera's rules shape them: InnoDB only (other engines do not replicate), a primary key on
 * every table (rows without one replicate badly, and certification needs a key to find
 * conflicts), no triggers, no SQL ENUMs (a new kind would need an ALTER under Galera's
 * cluster-wide DDL lock; zod checks the values on read instead). Times are DATETIME(3) in UTC,
 * written from the engine's clock, never NOW(): the session's time zone then does not matter.
 */
import type { Pool } from "mysql2/promise";
import { HastackError } from "../util/errors.ts";

/** This engine's schema. A newer engine that changes a table bumps it and migrates from the older. */
export const SCHEMA_VERSION = 1;

const TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

export const DDL: readonly string[] = [
  // One row (id 1): the schema version, so a later engine knows what it migrates from.
  `CREATE TABLE IF NOT EXISTS ha_schema (
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    version INT UNSIGNED NOT NULL,
    applied_at DATETIME(3) NOT NULL
  ) ${TABLE_OPTIONS}`,
  // Append-only: every transition, gate decision, fence, evacuation, alert and operator act.
  // Galera hands out AUTO_INCREMENT ids interleaved per node: ordered by (at, id), never by id alone.
  `CREATE TABLE IF NOT EXISTS ha_events (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at DATETIME(3) NOT NULL,
    engine VARCHAR(255) NOT NULL,
    host VARCHAR(255) NULL,
    kind VARCHAR(16) NOT NULL,
    phase_from VARCHAR(16) NULL,
    phase_to VARCHAR(16) NULL,
    detail TEXT NOT NULL,
    data JSON NULL,
    KEY ha_events_at (at),
    KEY ha_events_host_at (host, at)
  ) ${TABLE_OPTIONS}`,
  // One row per server per episode. The primary key is the claim: see claimEvacuation (store.ts).
  `CREATE TABLE IF NOT EXISTS ha_evacuations (
    episode VARCHAR(64) NOT NULL,
    server_id VARCHAR(64) NOT NULL,
    name VARCHAR(255) NOT NULL,
    from_host VARCHAR(255) NOT NULL,
    to_host VARCHAR(255) NULL,
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    status VARCHAR(16) NOT NULL,
    claimed_by VARCHAR(255) NOT NULL,
    claim_token CHAR(32) NOT NULL,
    started_at DATETIME(3) NOT NULL,
    finished_at DATETIME(3) NULL,
    detail TEXT NULL,
    PRIMARY KEY (episode, server_id)
  ) ${TABLE_OPTIONS}`,
  // The snapshot a standby resumes from: one row per compute, overwritten at each change.
  `CREATE TABLE IF NOT EXISTS ha_hosts (
    host VARCHAR(255) NOT NULL PRIMARY KEY,
    phase VARCHAR(16) NOT NULL,
    since DATETIME(3) NOT NULL,
    episode VARCHAR(64) NULL,
    fenced_boot_id VARCHAR(64) NULL,
    fence_method VARCHAR(16) NULL,
    hold_disabled TINYINT(1) NOT NULL DEFAULT 0,
    recovered_at DATETIME(3) NULL,
    engine VARCHAR(255) NOT NULL,
    updated_at DATETIME(3) NOT NULL
  ) ${TABLE_OPTIONS}`,
];

/** The version the database says it has, or undefined before the first engine created it. */
export async function schemaVersion(pool: Pool): Promise<number | undefined> {
  const [tables] = await pool.query(
    "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ha_schema'",
  );
  if (Number((tables as { n: unknown }[])[0]?.n) === 0) return undefined;
  const [rows] = await pool.query("SELECT version FROM ha_schema WHERE id = 1");
  const version = (rows as { version: unknown }[])[0]?.version;
  return version === undefined ? undefined : Number(version);
}

/**
 * Creates what is missing and records the version; a no-op on a database at this version. Two
 * engines may run it at once: every statement is IF NOT EXISTS or INSERT IGNORE. The caller
 * skips it when the version is already current, so a reconnect does not take Galera's
 * cluster-wide DDL lock (TOI) for nothing.
 */
export async function ensureSchema(pool: Pool, now: Date): Promise<void> {
  const found = await schemaVersion(pool);
  if (found !== undefined && found > SCHEMA_VERSION) {
    throw new HastackError(
      "E_HA_STORE_SCHEMA",
      `Cannot use the history database: its schema is version ${found}, this engine knows ${SCHEMA_VERSION}`,
      { hint: "a newer engine migrated it: run that version on every controller" },
    );
  }
  for (const statement of DDL) await pool.query(statement);
  await pool.query("INSERT IGNORE INTO ha_schema (id, version, applied_at) VALUES (1, ?, ?)", [
    SCHEMA_VERSION,
    now,
  ]);
  // Migrations from older versions go here, each in its own step, then:
  // UPDATE ha_schema SET version = SCHEMA_VERSION, applied_at = ? WHERE id = 1 AND version < ?
}
