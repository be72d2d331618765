import { type Connection, createConnection } from "mysql2/promise";
import { PROBE_DB, PROBE_USER } from "../../services/galera/health.ts";
import type { Topology } from "../../topology/types.ts";

/** Where SQL clients go: the database VIP, as every OpenStack service does. */
function target(topology: Topology, secrets: Readonly<Record<string, string>>) {
  return {
    host: topology.vips.services.galera ?? topology.vips.internal,
    port: 3306,
    user: PROBE_USER,
    password: secrets.db_probe ?? "",
    database: PROBE_DB,
    connectTimeout: 1000,
  };
}

/** A fresh connection and a query each time: what a client that reconnects after a failover sees. */
export function sqlReadProbe(
  topology: Topology,
  secrets: Readonly<Record<string, string>>,
): () => Promise<void> {
  const options = target(topology, secrets);
  return async () => {
    const connection = await createConnection(options);
    try {
      await withTimeout(connection.query("SELECT 1"), 1000);
    } finally {
      connection.destroy();
    }
  };
}

/** Inserts an increasing sequence number each time; `acked` holds those the database confirmed. */
export async function sqlWriteProbe(
  topology: Topology,
  secrets: Readonly<Record<string, string>>,
): Promise<{ probe: () => Promise<void>; acked: number[]; stored(): Promise<number[]> }> {
  const options = target(topology, secrets);
  const setup = await createConnection(options);
  const table = `drill_${Date.now()}`;
  await setup.query(`CREATE TABLE ${table} (seq INT PRIMARY KEY, node VARCHAR(64), at TIMESTAMP(3))`);
  setup.destroy();
  const acked: number[] = [];
  let next = 0;
  async function probe(): Promise<void> {
    const seq = next++;
    const connection = await createConnection(options);
    try {
      await withTimeout(connection.query(`INSERT INTO ${table} VALUES (?, @@hostname, NOW(3))`, [seq]), 2000);
      acked.push(seq);
    } finally {
      connection.destroy();
    }
  }
  async function stored(): Promise<number[]> {
    const connection: Connection = await createConnection({ ...options, connectTimeout: 5000 });
    try {
      const [rows] = await connection.query(`SELECT seq FROM ${table}`);
      await connection.query(`DROP TABLE ${table}`);
      return (rows as { seq: number }[]).map((r) => r.seq);
    } finally {
      connection.destroy();
    }
  }
  return { probe, acked, stored };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`query timeout ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
