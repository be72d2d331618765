import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeStepContext } from "../../deploy/context.ts";
import { exampleTopology } from "../../testing/fixtures.ts";
import { toolRoot } from "../../testing/real-tools.ts";
import { type Container, startContainer } from "../openstack/test-container.ts";
import { services } from "../registry.ts";
import type { StepContext } from "../types.ts";
import { cellsFromDb, hostMappingsFromDb } from "./cell-db.ts";
import { parsePrettyTable } from "./manage.ts";

/**
 * The SQL the cells and discover-hosts checks read, against nova_api as Nova 2025.1 of the lab
 * image makes it (`nova-manage api_db sync` on a MariaDB in a container), with cell0 and cell1
 * made by nova-manage itself: the rows must be what `nova-manage cell_v2 list_cells` prints.
 */
let box: Container;
const DB = "mysql+pymysql://root@localhost/DBNAME?unix_socket=/run/mysqld/mysqld.sock";
const url = (db: string) => DB.replace("DBNAME", db);

beforeAll(() => toolRoot(), 900_000);

describe("nova's cell and host mappings read by SQL", () => {
  beforeAll(async () => {
    box = await startContainer(
      "ctl1",
      `mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
       mariadbd --user=mysql --wsrep-on=OFF > /tmp/mariadb.log 2>&1 &
       for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done
       mariadb -e "CREATE DATABASE nova_api; CREATE DATABASE nova_cell0; CREATE DATABASE nova"
       printf '[api_database]\\nconnection = ${url("nova_api")}\\n[database]\\nconnection = ${url("nova")}\\n' > /etc/nova/nova.conf
       nova-manage api_db sync > /tmp/sync.log 2>&1 || { tail -20 /tmp/sync.log; exit 1; }`,
      { hostname: "ctl1", readyTimeoutMs: 600_000 },
    );
  }, 660_000);
  afterAll(() => box?.stop());

  function ctx(): StepContext {
    return makeStepContext({
      step: "nova.cells",
      host: "ctl1",
      topology: exampleTopology("lab"),
      services,
      files: new Map(),
      transports: new Map([["ctl1", box.transport]]),
      dryRun: false,
      signal: new AbortController().signal,
      timeoutMs: 60_000,
      log: { info: () => {}, warn: () => {}, debug: () => {} },
      secrets: {},
      redact: (t) => t,
    });
  }

  it("reads no cell before map_cell0, then cell0 and cell1 as list_cells shows them", async () => {
    expect(await cellsFromDb(ctx())).toEqual([]);
    const made = await box.transport.exec([
      "sh",
      "-c",
      `nova-manage cell_v2 map_cell0 --database_connection '${url("nova_cell0")}' &&
       nova-manage cell_v2 create_cell --name=cell1 --transport-url rabbit://u:p@10.20.0.11:5672/ --database_connection '${url("nova")}'`,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const listed = await box.transport.exec(["nova-manage", "cell_v2", "list_cells"]);
    const table = (parsePrettyTable(listed.stdout) ?? []).map((r) => ({
      name: r.Name,
      uuid: r.UUID,
      disabled: r.Disabled === "True",
    }));
    expect(table.map((c) => c.name)).toEqual(["cell0", "cell1"]);
    expect(await cellsFromDb(ctx())).toEqual(table);
  }, 300_000);

  it("reads each mapped compute with its cell's name", async () => {
    expect(await hostMappingsFromDb(ctx())).toEqual([]);
    // discover_hosts needs a compute node in the cell; the mapping row it writes is this one.
    const r = await box.transport.exec([
      "mariadb",
      "-e",
      "INSERT INTO nova_api.host_mappings (created_at, cell_id, host) SELECT NOW(), id, 'cmp1' FROM nova_api.cell_mappings WHERE name = 'cell1'",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await hostMappingsFromDb(ctx())).toEqual([{ host: "cmp1", cell: "cell1" }]);
  });
});
