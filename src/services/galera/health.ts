import { createConnection } from "mysql2/promise";
import { z } from "zod";
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { parseToolOutput } from "../../hostkit/command.ts";
import { sql, sqlString } from "../../hostkit/sql.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import { replicationProbe } from "./replication-probe.ts";

/** The database user and schema the write probe uses; created by the galera deploy steps. */
export const PROBE_USER = "hastack_probe";
export const PROBE_DB = "hastack_probe";

/**
 * Per node: wsrep state (Primary, Synced, ready, cluster size, last committed seqno). Once: a
 * real write and read through the VIP, the path every OpenStack service takes, and that write
 * found on every node with the same rows everywhere (replication-probe.ts).
 */
export function galeraHealth(topology: Topology): ProbeSpec[] {
  return [
    {
      id: "node",
      title: "Galera node",
      on: "each",
      weight: "redundant",
      run: (ctx) => probeNode(ctx, topology),
    },
    { id: "write", title: "SQL write+read via VIP", on: "once", weight: "critical", run: probeWrite },
    replicationProbe({ user: PROBE_USER, db: PROBE_DB }),
  ];
}

/** A MariaDB without wsrep (Galera off) lacks these: an error naming them, not a node read as "?". */
const WsrepStatus = z.object({
  wsrep_cluster_size: z.string().regex(/^\d+$/).transform(Number),
  wsrep_cluster_status: z.string(),
  wsrep_local_state_comment: z.string(),
  wsrep_ready: z.string(),
  wsrep_connected: z.string(),
  wsrep_last_committed: z.string(),
});
const variables = Object.keys(WsrepStatus.shape);

async function probeNode(ctx: ProbeContext, topology: Topology): Promise<ProbeResult> {
  const statement = `SHOW GLOBAL STATUS WHERE Variable_name IN (${variables.map(sqlString).join(",")})`;
  const rows = await sql(ctx.transport(ctx.host?.name ?? ""), statement, { signal: ctx.signal }).catch(
    (e: Error) => e,
  );
  if (rows instanceof Error)
    return { state: "down", summary: `mariadb does not answer: ${lastLine(rows.message)}` };
  const host = ctx.host?.name ?? "";
  const status = parseToolOutput(
    { name: host },
    "SHOW GLOBAL STATUS (wsrep)",
    WsrepStatus,
    Object.fromEntries(rows),
  );
  const size = status.wsrep_cluster_size;
  const want = topology.roles.controller.length;
  const primary = status.wsrep_cluster_status === "Primary";
  const synced = status.wsrep_local_state_comment === "Synced";
  const ready = status.wsrep_ready === "ON";
  const summary = `${status.wsrep_cluster_status}, ${status.wsrep_local_state_comment}, ready ${status.wsrep_ready}, size ${size}/${want}, seqno ${status.wsrep_last_committed}`;
  const state = !primary || !ready ? "down" : !synced || size < want ? "degraded" : "ok";
  return { state, summary, details: status };
}

async function probeWrite(ctx: ProbeContext): Promise<ProbeResult> {
  const host = ctx.topology.vips.services.galera ?? ctx.topology.vips.internal;
  const started = performance.now();
  const connection = await createConnection({
    host,
    port: 3306,
    user: PROBE_USER,
    password: ctx.secret("db_probe"),
    database: PROBE_DB,
    connectTimeout: 5000,
  });
  try {
    const token = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    await connection.query(
      "CREATE TABLE IF NOT EXISTS probe (id INT PRIMARY KEY, token VARCHAR(64) NOT NULL, at TIMESTAMP(3) NOT NULL)",
    );
    await connection.query("REPLACE INTO probe (id, token, at) VALUES (1, ?, NOW(3))", [token]);
    const [rows] = await connection.query("SELECT token, @@hostname AS node FROM probe WHERE id = 1");
    const row = (rows as { token: string; node: string }[])[0];
    if (row?.token !== token)
      return { state: "down", summary: "wrote a row through the VIP but read back another" };
    const ms = (performance.now() - started).toFixed(0);
    return {
      state: "ok",
      summary: `wrote and read back through ${host}:3306 on ${row.node} in ${ms} ms`,
      details: { node: row.node },
    };
  } finally {
    await connection.end().catch(() => undefined);
  }
}
