/**
 * @module
 * Instance HA's history store (#10 item 7): every decision, fence and evacuation, kept in the
 * site's Galera database so it survives an engine failover, and the per-host snapshot a standby
 * engine resumes from (a host mid-evacuation is finished, never evacuated twice).
 *
 * Tables: store-schema.ts; rows and their checks: store-rows.ts; the connection: store-connect.ts;
 * the engine's transitions, decisions and host states as entries and snapshots (and a snapshot
 * back as the state a standby resumes): store-mapping.ts.
 *
 * Why no VM is evacuated twice, across an engine failover: store-evacuations.ts.
 */
import type { ResultSetHeader } from "mysql2/promise";
import { HastackError } from "../util/errors.ts";
import {
  CAUGHT_UP,
  connectPool,
  driverCode,
  isConnectionError,
  queryRunner,
  type StoreOptions,
  scrubbed,
  storeOptions,
} from "./store-connect.ts";
import { type EvacuationMethods, evacuationMethods } from "./store-evacuations.ts";
import {
  type EventKind,
  EventRow,
  type HaEvent,
  HostRow,
  type HostSnapshot,
  parseRows,
  type StoredEvent,
  type StoredHost,
} from "./store-rows.ts";
import { ensureSchema, SCHEMA_VERSION, schemaVersion } from "./store-schema.ts";

export type { StoreOptions } from "./store-connect.ts";
export { HA_DATABASE, HA_USER } from "./store-connect.ts";
export type { Claim, EvacuationUpdate } from "./store-evacuations.ts";
export type {
  Evacuation,
  EvacuationStatus,
  EventKind,
  HaEvent,
  HostSnapshot,
  Json,
  StoredEvent,
  StoredHost,
} from "./store-rows.ts";

export interface HistoryQuery {
  host?: string;
  kind?: EventKind;
  /** Entries at or after this time. */
  since?: Date;
  /** The newest `limit` entries matching, returned oldest first. */
  limit: number;
}

export interface Store extends EvacuationMethods {
  /** Appends one entry to the history; returns its id. */
  record(event: HaEvent): Promise<number>;
  history(query: HistoryQuery): Promise<StoredEvent[]>;
  upsertHost(snapshot: HostSnapshot): Promise<void>;
  /** Every host's snapshot, read after the node caught up with the cluster. */
  hosts(): Promise<StoredHost[]>;
  close(): Promise<void>;
}

/** Connects, creates or checks the schema, and returns the store; throws E_HA_STORE_* on failure. */
export async function openStore(raw: StoreOptions, clock: () => Date = () => new Date()): Promise<Store> {
  const o = storeOptions(raw);
  const pool = connectPool(o);
  const where = o.socketPath ?? `${o.host}:${o.port}`;
  try {
    const version = await schemaVersion(pool);
    if (version !== SCHEMA_VERSION && !o.create) throw unreadable(version, o.database, where);
    if (version !== SCHEMA_VERSION) await ensureSchema(pool, clock());
  } catch (e) {
    await pool.end().catch(() => undefined);
    if (e instanceof HastackError) throw e;
    const connect =
      isConnectionError(e) || /^ER_(ACCESS_DENIED|DBACCESS_DENIED|BAD_DB)/.test(driverCode(e) ?? "");
    throw new HastackError(
      connect ? "E_HA_STORE_CONNECT" : "E_HA_STORE_SCHEMA",
      `Cannot open the history database ${o.database} at ${where} as ${o.user}: ${scrubbed(e, o.password).message}`,
      {
        cause: scrubbed(e, o.password),
        hint: connect
          ? "the instance-ha deploy creates the database and its user; is Galera up behind the VIP?"
          : "the user needs CREATE, INSERT, UPDATE, SELECT on its database",
      },
    );
  }

  const run = queryRunner(pool, o);

  return {
    ...evacuationMethods(run, o.engine),

    async record(event) {
      const result = (await run(
        "record an event",
        "INSERT INTO ha_events (at, engine, host, kind, phase_from, phase_to, detail, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
          event.at,
          o.engine,
          event.host ?? null,
          event.kind,
          event.phaseFrom ?? null,
          event.phaseTo ?? null,
          event.detail,
          event.data === undefined ? null : JSON.stringify(event.data),
        ],
      )) as ResultSetHeader;
      return result.insertId;
    },

    async history(query) {
      const filters: [string, unknown][] = [];
      if (query.host !== undefined) filters.push(["host = ?", query.host]);
      if (query.kind !== undefined) filters.push(["kind = ?", query.kind]);
      if (query.since !== undefined) filters.push(["at >= ?", query.since]);
      const conditions = filters.map(([c]) => c);
      const values = filters.map(([, v]) => v);
      const filter = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
      const rows = await run(
        "read the history",
        `SELECT id, at, engine, host, kind, phase_from, phase_to, detail, data FROM ha_events ${filter} ORDER BY at DESC, id DESC LIMIT ?`,
        [...values, Math.max(0, Math.floor(query.limit))],
      );
      return parseRows("ha_events", (r) => `id ${String(r.id)}`, EventRow, rows).reverse();
    },

    async upsertHost(s) {
      await run(
        `store the state of ${s.host}`,
        `INSERT INTO ha_hosts (host, phase, since, episode, fenced_boot_id, fence_method, hold_disabled, recovered_at, engine, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE phase = VALUES(phase), since = VALUES(since), episode = VALUES(episode),
           fenced_boot_id = VALUES(fenced_boot_id), fence_method = VALUES(fence_method),
           hold_disabled = VALUES(hold_disabled), recovered_at = VALUES(recovered_at),
           engine = VALUES(engine), updated_at = VALUES(updated_at)`,
        [
          s.host,
          s.phase,
          s.since,
          s.episode ?? null,
          s.fencedBootId ?? null,
          s.fenceMethod ?? null,
          s.holdDisabled ? 1 : 0,
          s.recoveredAt ?? null,
          o.engine,
          clock(),
        ],
      );
    },

    async hosts() {
      const rows = await run(
        "read the hosts' states",
        `${CAUGHT_UP}SELECT host, phase, since, episode, fenced_boot_id, fence_method, hold_disabled, recovered_at, engine, updated_at FROM ha_hosts ORDER BY host`,
      );
      return parseRows("ha_hosts", (r) => String(r.host), HostRow, rows);
    },

    async close() {
      await pool.end();
    },
  };
}

/** A reader's database that has no schema, or another one than this hastack's. */
function unreadable(version: number | undefined, database: string, where: string): HastackError {
  return version === undefined
    ? new HastackError(
        "E_HA_STORE_SCHEMA",
        `Cannot read the history database ${database} at ${where}: it has no tables: the instance-HA engine never ran`,
        { hint: "the engine creates its tables when it first starts: is it deployed and running?" },
      )
    : new HastackError(
        "E_HA_STORE_SCHEMA",
        `Cannot read the history database ${database} at ${where}: its schema is version ${version}, this hastack knows ${SCHEMA_VERSION}`,
        { hint: "run the hastack version the engine runs" },
      );
}
