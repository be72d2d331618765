import { createConnection } from "mysql2/promise";
import { z } from "zod";
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { parseToolOutput } from "../../hostkit/command.ts";
import { sql } from "../../hostkit/sql.ts";
import { lastLine } from "../../util/text.ts";

/**
 * What the seeds do by hand (create a database on one node, look for it on the others), as a
 * probe: a row written through the VIP must be on every node, every node must hold the same
 * rows, and every node's state (cluster UUID, last committed seqno) must include that write.
 *
 * Rows are only ever inserted, never updated or deleted while a node may differ: applying an
 * update or delete of a row a diverged node lacks makes Galera abort that node. Old rows are
 * pruned only after every node agreed on them.
 */
export function replicationProbe(probe: { user: string; db: string }): ProbeSpec {
  return {
    id: "replication",
    title: "Row written via VIP on every Galera node, same rows, seqnos",
    on: "once",
    weight: "redundant",
    timeoutMs: 20_000,
    run: (ctx) => probeReplication(ctx, probe),
  };
}

const TABLE = "replication";
/** Rows kept for the comparison; older ones go once every node agrees. */
const KEEP = 50;

const Int = z
  .string()
  .regex(/^\d+$/)
  .transform((v) => Number(v));
const NodeRows = z.tuple([
  z.tuple([z.string().min(1), Int, z.string().regex(/^\d+$/)]),
  z.tuple([z.literal("wsrep_last_committed"), Int]),
  z.tuple([z.literal("wsrep_local_state_comment"), z.string()]),
  z.tuple([z.literal("wsrep_cluster_state_uuid"), z.string().min(1)]),
]);

export interface NodeCopy {
  node: string;
  rows: number;
  checksum: string;
  seqno: number;
  state: string;
  uuid: string;
}

/** What one node holds up to the row written through the VIP (after wsrep_sync_wait: applied). */
export function nodeCopyStatement(db: string, upTo: number): string {
  return [
    "SET SESSION wsrep_sync_wait=1",
    `SELECT @@hostname, COUNT(*), COALESCE(BIT_XOR(CRC32(CONCAT_WS('/', id, token))), 0) FROM ${db}.${TABLE} WHERE id <= ${Math.trunc(upTo)}`,
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_last_committed','wsrep_local_state_comment','wsrep_cluster_state_uuid')",
  ].join(";\n");
}

/** `mariadb -N -B` rows of nodeCopyStatement; SHOW STATUS rows come in the server's order. */
export function parseNodeCopy(host: string, rows: string[][]): NodeCopy {
  const [first, ...status] = rows;
  const order = ["wsrep_last_committed", "wsrep_local_state_comment", "wsrep_cluster_state_uuid"];
  const sorted = [...status].sort((a, b) => order.indexOf(a[0] ?? "") - order.indexOf(b[0] ?? ""));
  const [[node, count, checksum], [, seqno], [, state], [, uuid]] = parseToolOutput(
    { name: host },
    "mariadb (replication check)",
    NodeRows,
    [first, ...sorted],
  );
  return { node, rows: count, checksum, seqno, state, uuid };
}

/** The verdict over every node's copy; exported for the tests over captured output. */
export function judgeReplication(
  written: { id: number; seqno: number },
  copies: Map<string, NodeCopy | string>,
): ProbeResult {
  const answered = [...copies].filter((e): e is [string, NodeCopy] => typeof e[1] !== "string");
  const silent = [...copies].filter((e): e is [string, string] => typeof e[1] === "string");
  const problems = silent.map(([host, why]) => `${host} cannot be read (${why})`);
  const uuids = new Set(answered.map(([, c]) => c.uuid));
  if (uuids.size > 1)
    problems.push(
      `nodes are in different cluster states (${answered.map(([h, c]) => `${h} ${c.uuid.slice(0, 8)}`).join(", ")}): a split, each side takes its own writes`,
    );
  // The majority copy is the reference: the node that differs is the one named.
  const tally = new Map<string, string[]>();
  for (const [host, c] of answered)
    tally.set(`${c.rows}/${c.checksum}`, [...(tally.get(`${c.rows}/${c.checksum}`) ?? []), host]);
  const [reference] = [...tally.entries()].sort((a, b) => b[1].length - a[1].length);
  for (const [key, hosts] of tally)
    if (reference && key !== reference[0])
      problems.push(
        `${hosts.join(", ")} hold(s) other rows than ${reference[1].join(", ")} (${key.split("/")[0]} rows vs ${reference[0].split("/")[0]}): data diverged, a failover to ${hosts.length > 1 ? "them" : hosts[0]} serves other data`,
      );
  for (const [host, c] of answered)
    if (c.seqno < written.seqno)
      problems.push(`${host} has committed up to seqno ${c.seqno}, behind the write at ${written.seqno}`);
  const seqnos = answered.map(([h, c]) => `${h} ${c.seqno}`).join(", ");
  const summary =
    problems.length === 0
      ? `row ${written.id} written via VIP (seqno ${written.seqno}) found on ${answered.length} nodes, same ${reference?.[0].split("/")[0] ?? 0} rows; seqnos ${seqnos}`
      : problems.join("; ");
  const state = answered.length === 0 ? "down" : problems.length > 0 ? "degraded" : "ok";
  return { state, summary, details: { written, copies: Object.fromEntries(copies) } };
}

async function probeReplication(
  ctx: ProbeContext,
  probe: { user: string; db: string },
): Promise<ProbeResult> {
  const vip = ctx.topology.vips.services.galera ?? ctx.topology.vips.internal;
  const connection = await createConnection({
    host: vip,
    port: 3306,
    user: probe.user,
    password: ctx.secret("db_probe"),
    database: probe.db,
    connectTimeout: 5000,
  });
  let written: { id: number; seqno: number };
  try {
    await connection.query(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (id BIGINT PRIMARY KEY, token VARCHAR(64) NOT NULL, at TIMESTAMP(3) NOT NULL)`,
    );
    // Unique per run without reading first: milliseconds, plus a random tail for two runs at once.
    const id = Date.now() * 1000 + Math.floor(Math.random() * 1000);
    await connection.query(`INSERT INTO ${TABLE} (id, token, at) VALUES (?, ?, NOW(3))`, [
      id,
      Math.random().toString(36).slice(2, 12),
    ]);
    const [rows] = await connection.query("SHOW STATUS LIKE 'wsrep_last_committed'");
    const seqno = Number((rows as { Value: string }[])[0]?.Value ?? 0);
    written = { id, seqno };
    // Filled in the controllers' order, whichever answers first.
    const copies = new Map<string, NodeCopy | string>(
      ctx.topology.roles.controller.map((h): [string, NodeCopy | string] => [h, "no answer"]),
    );
    await Promise.all(
      ctx.topology.roles.controller.map(async (host) => {
        const result = await sql(ctx.transport(host), nodeCopyStatement(probe.db, id), { signal: ctx.signal })
          .then((r) => parseNodeCopy(host, r))
          .catch((e: Error) => lastLine(e.message, 100));
        copies.set(host, result);
      }),
    );
    const verdict = judgeReplication(written, copies);
    // Pruning deletes rows on every node: only safe once every node holds the same ones.
    if (verdict.state === "ok") {
      const [old] = await connection.query(`SELECT id FROM ${TABLE} ORDER BY id DESC LIMIT 1 OFFSET ${KEEP}`);
      const cut = (old as { id: number | string }[])[0]?.id;
      if (cut !== undefined) await connection.query(`DELETE FROM ${TABLE} WHERE id <= ?`, [cut]);
    }
    return verdict;
  } finally {
    await connection.end().catch(() => undefined);
  }
}
