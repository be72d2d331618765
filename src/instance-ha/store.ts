/**
 * @module
 * Instance HA's history store (#10 item 7): every decision, fence and evacuation, kept in the
 * site's Galera database so it survives an engine failover, and the per-host snapshot a standby
 * engine resumes from (a host mid-evacuation is finished, never evacuated twice).
 *
 * Tables: store-schema.ts; rows and their checks: store-rows.ts; the connection: store-connect.ts.
 *
 * Why no VM is evacuated twice, across an engine failover:
 * 1. The engine asks Nova to evacuate a server only after its own claimEvacuation(episode,
 *    server) returned true, i.e. after its INSERT of the row committed.
 * 2. (episode, server_id) is the primary key of ha_evacuations, so at most one such INSERT
 *    commits in the whole cluster: two engines on the same node meet InnoDB's unique check (the
 *    second waits for the first's row lock, then gets a duplicate key); on two Galera nodes the
 *    later write set fails certification (first committer wins), and its automatic retry
 *    (wsrep_retry_autocommit) or our read-back finds the winner's row. Either way one claimer
 *    gets true, every other false.
 * 3. The episode id survives the failover: the engine writes it into ha_hosts (upsertHost)
 *    before its first claim, and a standby takes the episode from there rather than starting a
 *    new one, so its claims of the same servers hit the same keys and lose.
 * 4. A standby finishes an evacuation it inherited from the rows (evacuations(episode)): one in
 *    `requested` or `claimed` is reconciled from Nova (the server's host, its evacuation
 *    migration), not asked again. Only a `claimed` row whose server Nova shows untouched may be
 *    taken over (adoptClaim, a compare-and-set on the claimer), and then by one standby only.
 * A later failure of the same host is another episode: evacuating its servers again then is a
 * new evacuation, not a repeated one.
 */
import { randomBytes } from "node:crypto";
import type { ResultSetHeader } from "mysql2/promise";
import { HastackError } from "../util/errors.ts";
import {
  connectPool,
  driverCode,
  isConnectionError,
  type StoreOptions,
  scrubbed,
  storeOptions,
} from "./store-connect.ts";
import {
  type Evacuation,
  EvacuationRow,
  type EvacuationStatus,
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

export interface Claim {
  episode: string;
  serverId: string;
  name: string;
  fromHost: string;
  at: Date;
}

/** What changed about a claimed evacuation; fields left out keep their value. */
export interface EvacuationUpdate {
  episode: string;
  serverId: string;
  status: EvacuationStatus;
  toHost?: string;
  attempts?: number;
  finishedAt?: Date;
  detail?: string;
}

export interface Store {
  /** Appends one entry to the history; returns its id. */
  record(event: HaEvent): Promise<number>;
  history(query: HistoryQuery): Promise<StoredEvent[]>;
  /** True when this engine now owns the evacuation of the server in this episode; false when another does. */
  claimEvacuation(claim: Claim): Promise<boolean>;
  /** Takes over a `claimed` row from an engine that is gone; true for exactly one taker. */
  adoptClaim(episode: string, serverId: string, from: string): Promise<boolean>;
  /** Updates a claimed row (status, target, attempts); an unclaimed one is an error. */
  recordEvacuation(update: EvacuationUpdate): Promise<void>;
  evacuations(episode: string): Promise<Evacuation[]>;
  upsertHost(snapshot: HostSnapshot): Promise<void>;
  /** Every host's snapshot, read after the node caught up with the cluster. */
  hosts(): Promise<StoredHost[]>;
  close(): Promise<void>;
}

/**
 * Reads that a decision rests on (the snapshot at takeover, a claim's outcome) wait until this
 * node applied everything the cluster committed before them: right after a failover the new
 * writer may still be applying the old one's last write sets. A no-op without Galera.
 */
const CAUGHT_UP = "SET STATEMENT wsrep_sync_wait = 1 FOR ";

const EVACUATION_COLUMNS =
  "episode, server_id, name, from_host, to_host, attempts, status, claimed_by, started_at, finished_at, detail";

/** Connects, creates or checks the schema, and returns the store; throws E_HA_STORE_* on failure. */
export async function openStore(raw: StoreOptions, clock: () => Date = () => new Date()): Promise<Store> {
  const o = storeOptions(raw);
  const pool = connectPool(o);
  const where = o.socketPath ?? `${o.host}:${o.port}`;
  try {
    if ((await schemaVersion(pool)) !== SCHEMA_VERSION) await ensureSchema(pool, clock());
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

  async function run(what: string, sql: string, values: unknown[] = []): Promise<unknown> {
    try {
      const [result] = await pool.query({ sql, timeout: o.queryTimeoutMs }, values);
      return result;
    } catch (e) {
      const cause = scrubbed(e, o.password);
      throw new HastackError("E_HA_STORE_QUERY", `Cannot ${what} in ${o.database}: ${cause.message}`, {
        cause,
      });
    }
  }
  async function claimRow(episode: string, serverId: string): Promise<{ claim_token: string } | undefined> {
    const rows = await run(
      "read back a claim",
      `${CAUGHT_UP}SELECT claim_token FROM ha_evacuations WHERE episode = ? AND server_id = ?`,
      [episode, serverId],
    );
    return (rows as { claim_token: string }[])[0];
  }

  return {
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

    async claimEvacuation(claim) {
      // A token per attempt: if the answer to the INSERT is lost (the VIP moved mid-commit), the
      // row read back tells whether this attempt won, the claimer's name alone would not (a
      // restarted engine keeps its name).
      const token = randomBytes(16).toString("hex");
      try {
        await pool.query(
          {
            sql: "INSERT INTO ha_evacuations (episode, server_id, name, from_host, attempts, status, claimed_by, claim_token, started_at) VALUES (?, ?, ?, ?, 0, 'claimed', ?, ?, ?)",
            timeout: o.queryTimeoutMs,
          },
          [claim.episode, claim.serverId, claim.name, claim.fromHost, o.engine, token, claim.at],
        );
        return true;
      } catch (e) {
        if (driverCode(e) === "ER_DUP_ENTRY") return false;
        // Lost certification after the server's own retry (ER_LOCK_DEADLOCK), or no answer at
        // all: the row, read once the node caught up, says who won.
        const row = await claimRow(claim.episode, claim.serverId);
        if (row) return row.claim_token === token;
        const cause = scrubbed(e, o.password);
        throw new HastackError(
          "E_HA_STORE_QUERY",
          `Cannot claim the evacuation of ${claim.serverId} (episode ${claim.episode}): ${cause.message}; no claim was stored, claim again`,
          { cause },
        );
      }
    },

    async adoptClaim(episode, serverId, from) {
      const token = randomBytes(16).toString("hex");
      const result = (await run(
        "take over a claim",
        "UPDATE ha_evacuations SET claimed_by = ?, claim_token = ? WHERE episode = ? AND server_id = ? AND claimed_by = ? AND status = 'claimed'",
        [o.engine, token, episode, serverId, from],
      )) as ResultSetHeader;
      if (result.affectedRows === 1) return true;
      return (await claimRow(episode, serverId))?.claim_token === token;
    },

    async recordEvacuation(u) {
      const result = (await run(
        "record an evacuation",
        `UPDATE ha_evacuations SET status = ?, to_host = COALESCE(?, to_host), attempts = COALESCE(?, attempts),
           finished_at = COALESCE(?, finished_at), detail = COALESCE(?, detail) WHERE episode = ? AND server_id = ?`,
        [
          u.status,
          u.toHost ?? null,
          u.attempts ?? null,
          u.finishedAt ?? null,
          u.detail ?? null,
          u.episode,
          u.serverId,
        ],
      )) as ResultSetHeader;
      // affectedRows counts matched rows (mysql2 connects with FOUND_ROWS), changed or not.
      if (result.affectedRows === 0) {
        throw new HastackError(
          "E_HA_STORE_QUERY",
          `Cannot record the evacuation of ${u.serverId} (episode ${u.episode}): it was never claimed`,
          { hint: "claimEvacuation first: the claim is what keeps a server from being evacuated twice" },
        );
      }
    },

    async evacuations(episode) {
      const rows = await run(
        "read evacuations",
        `${CAUGHT_UP}SELECT ${EVACUATION_COLUMNS} FROM ha_evacuations WHERE episode = ? ORDER BY started_at, server_id`,
        [episode],
      );
      const key = (r: Record<string, unknown>) => `${String(r.episode)}/${String(r.server_id)}`;
      return parseRows("ha_evacuations", key, EvacuationRow, rows);
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
