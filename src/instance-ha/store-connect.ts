/**
 * @module
 * How the engine reaches its history database: mysql2 through the internal VIP (HAProxy in front
 * of Galera, one writer at a time), as its own MariaDB user on the database hastack_ha.
 *
 * A pool rather than one connection: when the writer fails, HAProxy cuts its sessions
 * (on-marked-down shutdown-sessions) and the pool opens new ones to the next node; a single
 * connection would stay dead. Timeouts are short: the engine evaluates every second, and a
 * database that does not answer within seconds must not stall its decisions (it keeps deciding,
 * and the caller reports the store down).
 *
 * The password never leaves this module in an error: mysql2's errors are copied into plain ones
 * (message, code) with any occurrence of the password masked, so no option object rides along
 * in a `cause`.
 */
import { createPool, type Pool } from "mysql2/promise";
import { z } from "zod";
import { HastackError } from "../util/errors.ts";

/** The database and user a deploy creates for the engine (the instance-ha service). */
export const HA_DATABASE = "hastack_ha";
export const HA_USER = "hastack_ha";

export const StoreOptions = z
  .strictObject({
    /** The internal VIP (or the galera service VIP); ignored when socketPath is set. */
    host: z.string().min(1).optional(),
    port: z.int().min(1).max(65535).default(3306),
    /** A Unix socket instead of TCP (tests, a local MariaDB). */
    socketPath: z.string().min(1).optional(),
    user: z.string().min(1).default(HA_USER),
    password: z.string(),
    database: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .default(HA_DATABASE),
    /** This engine's node name, stamped on what it writes. */
    engine: z.string().min(1),
    connectTimeoutMs: z.int().min(100).default(2000),
    queryTimeoutMs: z.int().min(100).default(5000),
    /** Two: one engine loop writing, one operator query reading, never a queue behind a hung one. */
    connections: z.int().min(1).default(2),
    /**
     * False for readers (hastack ha status): a database without the engine's tables is an error
     * saying the engine never ran, not tables created by a command that only looks.
     */
    create: z.boolean().default(true),
  })
  .refine((o) => o.host !== undefined || o.socketPath !== undefined, {
    message: "host or socketPath is required",
  });
export type StoreOptions = z.input<typeof StoreOptions>;
export type ResolvedStoreOptions = z.output<typeof StoreOptions>;

export function storeOptions(raw: StoreOptions): ResolvedStoreOptions {
  const parsed = StoreOptions.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // The issue's path and message only: zod's issue for a bad password field would not quote
  // it, but the input object is never put in the error either.
  throw new HastackError(
    "E_HA_STORE_CONNECT",
    `Cannot open the history database: option ${issue?.path.join(".") || "(top)"}: ${issue?.message}`,
  );
}

export function connectPool(o: ResolvedStoreOptions): Pool {
  return createPool({
    ...(o.socketPath ? { socketPath: o.socketPath } : { host: o.host, port: o.port }),
    user: o.user,
    password: o.password,
    database: o.database,
    connectTimeout: o.connectTimeoutMs,
    connectionLimit: o.connections,
    // Calls wait for a free connection (an evacuation claims its servers at once); bounded so
    // a database that hangs fails calls instead of growing the queue for ever.
    queueLimit: 1000,
    enableKeepAlive: true,
    // DATETIME values are UTC both ways (the store writes the engine's clock, never NOW()).
    timezone: "Z",
    charset: "utf8mb4_general_ci",
    supportBigNumbers: true,
  });
}

/** mysql2's error code (ER_DUP_ENTRY, ECONNREFUSED...) when there is one. */
export function driverCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A copy of a driver error that carries nothing but its words and code, the password masked. */
export function scrubbed(e: unknown, password: string): Error {
  const raw = e instanceof Error ? e.message : String(e);
  const message = password.length > 0 ? raw.split(password).join("<secret>") : raw;
  const copy = new Error(message);
  const code = driverCode(e);
  if (code) Object.assign(copy, { code });
  return copy;
}

/** Connection-level failures (the VIP moving, a node going away): worth a retry on a new connection. */
export function isConnectionError(e: unknown): boolean {
  const code = driverCode(e) ?? "";
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOENT|PROTOCOL_CONNECTION_LOST|PROTOCOL_SEQUENCE_TIMEOUT)$/.test(
      code,
    ) || code === "ER_SERVER_SHUTDOWN"
  );
}

/** One query and its result; a failure is E_HA_STORE_QUERY saying what was being done. */
export type Run = (what: string, sql: string, values?: unknown[]) => Promise<unknown>;

export function queryRunner(pool: Pool, o: ResolvedStoreOptions): Run {
  return async (what, sql, values = []) => {
    try {
      const [result] = await pool.query({ sql, timeout: o.queryTimeoutMs }, values);
      return result;
    } catch (e) {
      const cause = scrubbed(e, o.password);
      // The driver's code stays readable on the error: a caller tells a lost race (ER_DUP_ENTRY)
      // from a failure by it.
      throw new HastackError("E_HA_STORE_QUERY", `Cannot ${what} in ${o.database}: ${cause.message}`, {
        cause,
      });
    }
  };
}

/**
 * Reads that a decision rests on (the snapshot at takeover, a claim's outcome) wait until this
 * node applied everything the cluster committed before them: right after a failover the new
 * writer may still be applying the old one's last write sets. A no-op without Galera.
 */
export const CAUGHT_UP = "SET STATEMENT wsrep_sync_wait = 1 FOR ";
