/**
 * @module
 * For the store's tests: a real MariaDB (Debian 13's mariadbd, in a throwaway container on the
 * lab image) with the engine's user, and a fresh database per test. The container has its own
 * network; the test process reaches mariadbd through its Unix socket, which it sees under
 * /proc/<pid>/root, so the store under test runs here, in the test, not in the container.
 */
import { type Connection, createConnection } from "mysql2/promise";
import { type Container, startContainer } from "../services/openstack/test-container.ts";
import { HastackError } from "../util/errors.ts";
import { openStore, type Store, type StoreOptions } from "./store.ts";

export const TEST_PASSWORD = "s3cret-Pw-for-the-test";

export interface TestDb {
  socketPath: string;
  /** A new database and a raw connection to it (for checks, and for corrupting rows). */
  fresh(): Promise<{ database: string; raw: Connection }>;
  options(database: string, engine?: string): StoreOptions;
  /** openStore, closed by stop(). */
  open(o: StoreOptions, clock?: () => Date): Promise<Store>;
  stop(): Promise<void>;
}

export async function startTestDb(): Promise<TestDb> {
  const container: Container = await startContainer(
    "mariadb",
    [
      "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld",
      "mariadbd --user=mysql --wsrep-on=OFF > /tmp/mariadb.log 2>&1 &",
      "for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done",
      // As the deploy grants it (ALL on its own database), here on every test's database.
      `mariadb -e "CREATE USER hastack_ha@localhost IDENTIFIED BY '${TEST_PASSWORD}'; GRANT ALL ON \\\`hastack\\_ha%\\\`.* TO hastack_ha@localhost"`,
    ].join("\n"),
  );
  const socketPath = `${container.root}/run/mysqld/mysqld.sock`;
  const login = { socketPath, user: "hastack_ha", password: TEST_PASSWORD };
  const stores: Store[] = [];
  const raws: Connection[] = [];
  let count = 0;
  return {
    socketPath,
    async fresh() {
      const database = `hastack_ha_t${++count}`;
      const admin = await createConnection(login);
      await admin.query(`CREATE DATABASE ${database}`);
      admin.destroy();
      const raw = await createConnection({ ...login, database });
      raws.push(raw);
      return { database, raw };
    },
    options(database, engine = "ctl1") {
      return { socketPath, password: TEST_PASSWORD, database, engine };
    },
    async open(o, clock) {
      const store = await openStore(o, clock);
      stores.push(store);
      return store;
    },
    async stop() {
      for (const s of stores) await s.close().catch(() => undefined);
      for (const c of raws) c.destroy();
      await container.stop();
    },
  };
}

/** The HastackError a promise rejects with; anything else fails the test. */
export async function caught(promise: Promise<unknown>): Promise<HastackError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof HastackError)) throw new Error(`expected a HastackError, got ${String(e)}`);
  return e;
}
