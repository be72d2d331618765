import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../hostkit/sql.ts";
import { type Container, startContainer } from "../../services/openstack/test-container.ts";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import { toolRoot } from "../../testing/real-tools.ts";
import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { containerContext, ONE_NODE_GALERA } from "./fixtures.ts";
import { backupList } from "./list.ts";
import { backupRun } from "./run.ts";
import { BACKUP_DIR } from "./store-controller.ts";
import { backupVerify } from "./verify.ts";

/**
 * `backup run`, `list` and `verify` end to end, their real code over Transports (nsenter) into
 * two lab-image containers standing in for controllers (each a one-node Galera cluster from the
 * site's rendered galera.cnf; ctl3 unreachable), on a site without Ceph: the backup is stored
 * on another controller than its source. Then retention, a corrupted part, and no source.
 */
const lab = exampleTopology("lab");
const ceph = lab.settings.ceph as Record<string, unknown>;
const topology: Topology = {
  ...lab,
  settings: { ...lab.settings, ceph: { ...ceph, osd_file: undefined, osd_devices: {} } },
};
const secrets = generatedSecrets(lab);
const cnf = (host: string) =>
  placed(renderedFile(lab, host, "/etc/mysql/mariadb.conf.d/60-galera.cnf"), secrets);
const ip = { ctl1: "10.20.0.11", ctl2: "10.20.0.12" } as const;
const DATA = [
  "CREATE DATABASE app",
  "CREATE TABLE app.items (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT) ENGINE=InnoDB",
  "USE app",
  "INSERT INTO app.items (body) SELECT SHA2(seq, 512) FROM seq_1_to_8000",
].join(";\n");

let hosts: Record<string, Container> = {};
const printed: string[] = [];

const ctx = (at: string) =>
  containerContext(
    topology,
    () => ({ ctl1: hosts.ctl1?.transport, ctl2: hosts.ctl2?.transport }),
    printed,
    at,
  );

beforeAll(async () => {
  await toolRoot();
  const [ctl1, ctl2] = await Promise.all([
    // ctl1 is desynced on purpose: a backup must not be taken there.
    startContainer("ctl1", `${ONE_NODE_GALERA}\nmariadb -e "SET GLOBAL wsrep_desync = ON"`, {
      files: [cnf("ctl1")],
      hostname: "ctl1",
      addresses: [ip.ctl1],
    }),
    startContainer("ctl2", `${ONE_NODE_GALERA}\nmariadb <<'SQL'\n${DATA};\nSQL`, {
      files: [cnf("ctl2")],
      hostname: "ctl2",
      addresses: [ip.ctl2],
    }),
  ]);
  hosts = { ctl1, ctl2 };
}, 300_000);

afterAll(async () => {
  await Promise.all(Object.values(hosts).map((h) => h.stop().catch(() => undefined)));
});

describe("hastack backup run, list, verify (real tools, a site without Ceph)", () => {
  it("backs up the Synced controller to another one, verifies it, keeps the newest, and fails on a corrupt part", async () => {
    const settings = { keep: 1, part_mb: 1, include: [] };
    const first = await backupRun(ctx("2026-12-04T15:00:00Z"), settings);
    expect(first.manifest).toMatchObject({
      id: "20261204T150000Z",
      host: "ctl2",
      store: { kind: "controller", host: "ctl1", dir: BACKUP_DIR },
      databases: ["app", "hastack_backup"],
    });
    expect(first.manifest.parts.length).toBeGreaterThan(1);
    expect(first.manifest.tables).toContainEqual({ db: "app", table: "items", before: 8000, after: 8000 });
    expect(printed[0]).toBe(
      "backup 20261204T150000Z: galera on ctl2 (Synced) to ctl1:/var/lib/hastack/backups",
    );

    const listed = await backupList(ctx("2026-12-04T15:00:00Z"));
    expect(listed).toMatchObject([{ id: "20261204T150000Z", complete: true, where: "ctl1", host: "ctl2" }]);

    const ok = await backupVerify(ctx("2026-12-04T15:00:00Z"));
    expect(ok.findings.map((f) => [f.check, f.ok])).toEqual([
      ["parts", true],
      ["databases", true],
      ["tables and row counts", true],
      ["canary row", true],
    ]);
    expect(ok).toMatchObject({ id: "20261204T150000Z", host: "ctl1", ok: true });

    // Retention (keep 1): the second run deletes the first, parts and canary row.
    const second = await backupRun(ctx("2026-12-04T16:00:00Z"), settings);
    expect(second.pruned).toEqual(["20261204T150000Z"]);
    expect((await backupList(ctx("2026-12-04T16:00:00Z"))).map((b) => b.id)).toEqual(["20261204T160000Z"]);
    const canaries = await sql(hosts.ctl2?.transport as Transport, "SELECT id FROM hastack_backup.canary");
    expect(canaries).toEqual([["20261204T160000Z"]]);

    // A part cut short where it is stored: verify says which and restores nothing.
    const ctl1 = hosts.ctl1?.transport as Transport;
    await ctl1.exec(["truncate", "-s", "-100", `${BACKUP_DIR}/20261204T160000Z/part-0001`]);
    const bad = await backupVerify(ctx("2026-12-04T16:00:00Z"), "20261204T160000Z");
    expect(bad.ok).toBe(false);
    expect(bad.findings).toEqual([{ ok: false, check: "parts", detail: "differ or missing: part-0001" }]);

    // Nothing left behind: no spool on the source, no scratch directory or server on the holder.
    for (const t of [ctl1, hosts.ctl2?.transport as Transport]) {
      const left = await t.exec([
        "sh",
        "-c",
        "ls -d /var/tmp/hastack-backup-* 2>/dev/null; pgrep -af '[m]ariadbd --no-defaults'",
      ]);
      expect(left.stdout.trim()).toBe("");
    }
  }, 400_000);

  it("refuses when no controller is Synced and free, naming each one's reason", async () => {
    const ctl2 = hosts.ctl2?.transport as Transport;
    await sql(ctl2, "SET GLOBAL wsrep_desync = ON");
    try {
      await expect(
        backupRun(ctx("2026-12-04T17:00:00Z"), { keep: 1, part_mb: 1, include: [] }),
      ).rejects.toThrow(
        "Cannot back up galera: no controller is Synced and free to take it (ctl1: desynced (wsrep_desync=ON); ctl2: desynced (wsrep_desync=ON); ctl3: Cannot connect to ctl3: timed out)",
      );
    } finally {
      await sql(ctl2, "SET GLOBAL wsrep_desync = OFF");
    }
  }, 60_000);

  it("takes the backup again when its stream does not unpack, and stops at once when there is no room", async () => {
    // The one fake here: the first backup script's exit. What makes a real stream fail to unpack
    // (a DDL during the backup) is backup-real.test.ts's; this checks what `backup run` does then.
    const real = hosts.ctl2?.transport as Transport;
    const runs: number[] = [];
    // A Proxy, not Object.create: the transport's methods read its private fields.
    const failing = (code: number, stderr: string, times: number): Transport =>
      new Proxy(real, {
        get(target, key) {
          if (key !== "exec") {
            const value = Reflect.get(target, key, target);
            return typeof value === "function" ? value.bind(target) : value;
          }
          return (argv: string[], opts?: Parameters<Transport["exec"]>[1]) => {
            if (argv[0] !== "bash" || !String(argv[2]).includes("mariadb-backup --backup"))
              return target.exec(argv, opts);
            runs.push(code);
            if (runs.length <= times) return Promise.resolve({ code, stdout: "", stderr, durationMs: 0 });
            return target.exec(argv, opts);
          };
        },
      });
    const unpack =
      "the stream does not unpack (mbstream -x): mbstream: Can't create/write to file './mysql/table_stats.MAI' (Errcode: 17 \"File exists\")";
    printed.length = 0;
    const ctl1 = hosts.ctl1?.transport;
    const runWith = (ctl2: Transport, at: string) =>
      backupRun(
        containerContext(topology, () => ({ ctl1, ctl2 }), printed, at),
        { keep: 1, part_mb: 1, include: [] },
      );
    const retried = await runWith(failing(4, unpack, 1), "2026-12-04T18:00:00Z");
    expect(runs).toEqual([4, 4]);
    expect(retried.manifest.id).toBe("20261204T180000Z");
    expect(printed).toContain(
      `  attempt 1: ${unpack}; again in 15 s: a DDL on the system tables during the backup (mariadb-upgrade after a start does this)`,
    );

    runs.length = 0;
    const room = "not enough room in /var/tmp/hastack-backup-20261204T190000Z: 10 MiB free, 300 MiB needed";
    await expect(runWith(failing(5, room, 9), "2026-12-04T19:00:00Z")).rejects.toThrow(
      `Cannot back up galera on ctl2: mariadb-backup: exit code 5: ${room}`,
    );
    expect(runs).toEqual([5]);
  }, 180_000);
});
