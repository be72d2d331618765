import { createConnection } from "mysql2/promise";
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { sql, sqlString } from "../../hostkit/sql.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";

/** The database user and schema the write probe uses; created by the galera deploy steps. */
export const PROBE_USER = "hastack_probe";
export const PROBE_DB = "hastack_probe";

/**
 * Per node: wsrep state (Primary, Synced, ready, cluster size, last committed seqno). Once: a
 * real write and read through the VIP, the path every OpenStack service takes.
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
  ];
}

const variables = [
  "wsrep_cluster_size",
  "wsrep_cluster_status",
  "wsrep_local_state_comment",
  "wsrep_ready",
  "wsrep_connected",
  "wsrep_last_committed",
];

async function probeNode(ctx: ProbeContext, topology: Topology): Promise<ProbeResult> {
  const statement = `SHOW GLOBAL STATUS WHERE Variable_name IN (${variables.map(sqlString).join(",")})`;
  const rows = await sql(ctx.transport(ctx.host?.name ?? ""), statement, { signal: ctx.signal }).catch(
    (e: Error) => e,
  );
  if (rows instanceof Error)
    return { state: "down", summary: `mariadb does not answer: ${lastLine(rows.message)}` };
  const status: Record<string, string> = Object.fromEntries(rows.map(([k = "", v = ""]) => [k, v]));
  const size = Number(status.wsrep_cluster_size ?? 0);
  const want = topology.roles.controller.length;
  const primary = status.wsrep_cluster_status === "Primary";
  const synced = status.wsrep_local_state_comment === "Synced";
  const ready = status.wsrep_ready === "ON";
  const summary = `${status.wsrep_cluster_status ?? "?"}, ${status.wsrep_local_state_comment ?? "?"}, ready ${status.wsrep_ready ?? "?"}, size ${size}/${want}, seqno ${status.wsrep_last_committed ?? "?"}`;
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
