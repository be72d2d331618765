import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../hostkit/sql.ts";
import { type BootedContainer, bootContainer, linkContainers } from "../../testing/booted-container.ts";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import type { Transport } from "../../transport/types.ts";
import { memoryJournal } from "../recovery/act-journal.ts";
import { DEFAULT_TIMING } from "../recovery/act-step.ts";
import { canaryReadSql } from "./content.ts";
import type { Manifest } from "./manifest.ts";
import { planRestore } from "./restore.ts";
import { carryOutRestore } from "./restore-act.ts";
import { RESTORE_STATE_PATH } from "./restore-state.ts";
import { backupRun } from "./run.ts";
import type { BackupContext } from "./site.ts";
import { BACKUP_DIR } from "./store-controller.ts";

/**
 * `backup restore` for real: two lab-image containers booted with systemd (ctl1 and ctl2 on one
 * link, the site's rendered galera.cnf, MariaDB run by its unit as on a site) form a Galera
 * cluster; `backup run` takes a backup (on ctl2, stored on ctl1), rows are written after it;
 * then the restore's own code, over Transports into the containers, stops both, sets both
 * datadirs aside, moves the backup into ctl1's, bootstraps there with galera_new_cluster and
 * has ctl2 join with an empty datadir (by SST). The canary must come back on both nodes and
 * the later rows must be gone. A corrupted part stops it before anything is stopped; a join
 * that fails leaves a state that a second run resumes from. Last, the first backup restored
 * into a fresh pair of containers, a cluster of another history (controllers rebuilt).
 */
const topology = exampleTopology("lab", (inv) => {
  delete inv.hosts.ctl3;
  for (const h of ["sto1", "sto2", "sto3"]) delete inv.hosts[h];
  delete (inv.services as Record<string, unknown>).ceph;
});
const secrets = generatedSecrets(topology);
let ctl1: BootedContainer;
let ctl2: BootedContainer;
const printed: string[] = [];

/** The restore's context over two containers standing for ctl1 and ctl2 (by default the site's). */
function ctx(at: string, boxes: Record<string, BootedContainer> = { ctl1, ctl2 }): BackupContext {
  return {
    topology,
    transport: (host: string): Transport => {
      const box = boxes[host];
      if (!box) throw new Error(`no container for ${host}`);
      return box.transport;
    },
    print: (line) => void printed.push(line),
    now: () => new Date(at),
  };
}

async function must(box: BootedContainer, script: string): Promise<string> {
  const r = await box.transport.exec(["bash", "-c", script], { timeoutMs: 300_000 });
  expect(r.code, `${box.name}: ${script}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const rows = (box: BootedContainer, statement: string) => sql(box.transport, statement);
const status = async (box: BootedContainer) =>
  Object.fromEntries(
    await rows(
      box,
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_local_state_uuid')",
    ),
  );
let first: Manifest | undefined;
const timing = { ...DEFAULT_TIMING, bootstrapMs: 180_000, joinMs: 300_000, pollMs: 1_000 };

/**
 * Two booted controllers on one link with the site's galera.cnf, formed into a cluster as the
 * galera service's deploy does: bootstrap on ctl1, the SST user, `statements`, then ctl2 joins.
 */
async function galeraPair(statements: readonly string[]): Promise<[BootedContainer, BootedContainer]> {
  const [a, b] = await Promise.all([bootContainer("ctl1"), bootContainer("ctl2")]);
  await linkContainers(a, b, { a: "10.20.0.11/24", b: "10.20.0.12/24" });
  for (const box of [a, b]) {
    const cnf = placed(renderedFile(topology, box.name, "/etc/mysql/mariadb.conf.d/60-galera.cnf"), secrets);
    await box.transport.writeFile(cnf.path, cnf.content, { owner: "root", group: "root", mode: 0o644 });
  }
  await must(a, "galera_new_cluster");
  const sst = [
    `CREATE USER 'galera_sst'@'localhost' IDENTIFIED BY '${secrets.galera_sst}'`,
    "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'galera_sst'@'localhost'",
  ];
  await sql(a.transport, [...sst, ...statements].join(";\n"));
  await must(b, "systemctl start mariadb");
  expect(await status(b)).toMatchObject({ wsrep_cluster_size: "2", wsrep_local_state_comment: "Synced" });
  return [a, b];
}

beforeAll(async () => {
  [ctl1, ctl2] = await galeraPair([
    "CREATE DATABASE app",
    "CREATE TABLE app.items (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT) ENGINE=InnoDB",
    "CREATE TABLE app.notes (id INT PRIMARY KEY, note VARCHAR(64)) ENGINE=InnoDB",
    "USE app",
    "INSERT INTO app.items (body) SELECT SHA2(seq, 512) FROM seq_1_to_5000",
  ]);
}, 600_000);

afterAll(async () => {
  await Promise.all([ctl1, ctl2].map((b) => b?.stop()));
});

describe("hastack backup restore into a Galera cluster run by systemd (real MariaDB 11.8, galera-4, mariabackup SST)", () => {
  it("restores the backup's point on both nodes: canary back, later rows gone, old datadirs kept; a corrupted part stops nothing", async () => {
    const t0 = performance.now();
    const backup = await backupRun(ctx("2026-12-04T15:00:00Z"), { keep: 3, part_mb: 1, include: [] });
    first = backup.manifest;
    const id = backup.manifest.id;
    expect(backup.manifest).toMatchObject({ host: "ctl2", store: { kind: "controller", host: "ctl1" } });
    expect(backup.manifest.parts.length).toBeGreaterThan(1);
    // Writes after the backup: the restore must lose them.
    await rows(
      ctl1,
      "INSERT INTO app.notes VALUES (1, 'after the backup'); DELETE FROM app.items WHERE id <= 10",
    );
    const uuid = (await status(ctl1)).wsrep_local_state_uuid;

    // A part cut short where it is stored: refused before any MariaDB is stopped or datadir moved.
    const part = `${BACKUP_DIR}/${id}/part-0001`;
    await must(ctl1, `cp ${part} /root/part && truncate -s -100 ${part}`);
    const bad = await planRestore(ctx("2026-12-04T15:10:00Z"));
    expect(bad.plan).toMatchObject({ id, bootstrap: "ctl1", join: ["ctl2"] });
    await expect(
      carryOutRestore(ctx("2026-12-04T15:10:00Z"), bad, { journal: memoryJournal(), timing }),
    ).rejects.toThrow(
      `Cannot restore backup ${id} on ctl1: check the parts' sha256: differ or missing: part-0001`,
    );
    for (const box of [ctl1, ctl2]) {
      expect(await status(box)).toMatchObject({
        wsrep_cluster_size: "2",
        wsrep_local_state_comment: "Synced",
      });
      expect(await rows(box, "SELECT note FROM app.notes")).toEqual([["after the backup"]]);
      expect(
        await must(
          box,
          `ls -d /var/lib/mysql.* /var/tmp/hastack-restore-* ${RESTORE_STATE_PATH} 2>/dev/null || true`,
        ),
      ).toBe("");
    }
    await must(ctl1, `cp /root/part ${part}`);

    // The restore itself.
    const planned = await planRestore(ctx("2026-12-04T15:20:00Z"));
    expect(planned.plan.lost).toMatch(/every write after the backup/);
    const journal = memoryJournal();
    const result = await carryOutRestore(ctx("2026-12-04T15:20:00Z"), planned, { journal, timing });
    const seconds = (performance.now() - t0) / 1000;
    process.stderr.write(
      `restore ${id}: ${(result.durationMs / 1000).toFixed(1)} s (test so far ${seconds.toFixed(1)} s)\n`,
    );
    expect(result).toMatchObject({ bootstrap: "ctl1", joined: ["ctl2"], canary: ["ctl1", "ctl2"] });
    expect(result.position?.uuid).toBe(uuid);
    const commands = journal.entries.flatMap((e) =>
      e.type === "action" && e.command ? [`${e.host}: ${e.command}`] : [],
    );
    expect(commands).toContain("ctl1: galera_new_cluster");
    expect(commands).toContain("ctl2: systemctl start mariadb");

    for (const box of [ctl1, ctl2]) {
      expect(await status(box)).toEqual({
        wsrep_cluster_size: "2",
        wsrep_local_state_comment: "Synced",
        wsrep_local_state_uuid: uuid,
      });
      expect(await rows(box, canaryReadSql(id))).toEqual([[backup.manifest.canary.token]]);
      expect(await rows(box, "SELECT COUNT(*), MIN(id) FROM app.items")).toEqual([["5000", "1"]]);
      expect(await rows(box, "SELECT COUNT(*) FROM app.notes")).toEqual([["0"]]);
      // The old datadir kept whole; the state says done; no spool left.
      expect(await must(box, `ls /var/lib/mysql.before-restore-${id}`)).toMatch(/ibdata1[\s\S]*mysql/);
      expect(JSON.parse(await must(box, `cat ${RESTORE_STATE_PATH}`))).toMatchObject({ id, phase: "done" });
      expect(await must(box, "ls -d /var/tmp/hastack-restore-* 2>/dev/null || true")).toBe("");
    }
    // ctl2 had an empty datadir: what it holds came by SST from ctl1.
    expect(
      await must(ctl2, "journalctl -u mariadb --no-pager -o cat | grep -c 'SST succeeded' || true"),
    ).not.toBe("0\n");
    // The restored cluster replicates new writes.
    await rows(ctl2, "INSERT INTO app.notes VALUES (2, 'after the restore')");
    expect(await rows(ctl1, "SELECT note FROM app.notes")).toEqual([["after the restore"]]);
  }, 900_000);

  it("a join that fails leaves the state it names; the next run resumes without fetching or bootstrapping again", async () => {
    const backup = await backupRun(ctx("2026-12-04T16:00:00Z"), { keep: 3, part_mb: 1, include: [] });
    const id = backup.manifest.id;
    await rows(ctl1, "INSERT INTO app.notes VALUES (3, 'after the second backup')");
    // ctl2's MariaDB cannot start: the join fails after ctl1 bootstrapped.
    await must(ctl2, "systemctl mask mariadb");
    const first = await planRestore(ctx("2026-12-04T16:10:00Z"), id);
    const failed = carryOutRestore(ctx("2026-12-04T16:10:00Z"), first, { journal: memoryJournal(), timing });
    await expect(failed).rejects.toThrow(
      new RegExp(`^Cannot restore backup ${id} on ctl2: join the restored cluster by SST: .*masked`),
    );
    const error = (await failed.catch((e: unknown) => e)) as { hint?: string };
    expect(error.hint).toContain(`ctl1: started, old datadir at /var/lib/mysql.before-restore-${id}`);
    expect(error.hint).toContain(`ctl2: aside, old datadir at /var/lib/mysql.before-restore-${id}`);
    expect(error.hint).toContain(`hastack backup restore ${id} --yes`);

    await must(ctl2, "systemctl unmask mariadb");
    // No id: the unfinished restore is the one planned, resumed where it stopped.
    const again = await planRestore(ctx("2026-12-04T16:20:00Z"));
    expect(again.plan).toMatchObject({ id, bootstrap: "ctl1", resumed: { ctl1: "started", ctl2: "aside" } });
    expect(again.plan.steps.join("\n")).not.toMatch(/fetch|galera_new_cluster/);
    expect(again.plan.steps).toContain("ctl2: stop mariadb");
    expect(again.plan.steps).toContain(
      `ctl2: empty the /var/lib/mysql the cut-short restore left (the old datadir stays at /var/lib/mysql.before-restore-${id})`,
    );
    const journal = memoryJournal();
    const result = await carryOutRestore(ctx("2026-12-04T16:20:00Z"), again, { journal, timing });
    expect(result.position).toBeUndefined();
    const steps = journal.entries.flatMap((e) =>
      e.type === "action" && e.status === "started" ? [`${e.host}: ${e.step}`] : [],
    );
    expect(steps.filter((s) => /fetch|galera_new_cluster|move-back|ctl1: stop/.test(s))).toEqual([]);
    for (const box of [ctl1, ctl2]) {
      expect(await status(box)).toMatchObject({
        wsrep_cluster_size: "2",
        wsrep_local_state_comment: "Synced",
      });
      expect(await rows(box, canaryReadSql(id))).toEqual([[backup.manifest.canary.token]]);
      expect(await rows(box, "SELECT note FROM app.notes")).toEqual([["after the restore"]]);
    }
  }, 900_000);

  it("restores into a fresh cluster of rebuilt controllers (another Galera history): its own data gone, the backup's history back", async () => {
    const m = first;
    if (!m) throw new Error("the first test's backup is missing");
    const fresh = await galeraPair([
      "CREATE DATABASE fresh_only",
      "CREATE TABLE fresh_only.t (id INT PRIMARY KEY)",
    ]);
    try {
      const [f1, f2] = fresh;
      const theirs = (await status(f1)).wsrep_local_state_uuid;
      expect(theirs).not.toBe(m.galera.uuid);
      // The backup copied onto the rebuilt ctl1, as an operator brings it back to a new site.
      const tar = await ctl1.transport.execRaw(["tar", "-C", BACKUP_DIR, "-cf", "-", m.id]);
      expect(tar.code).toBe(0);
      const untar = await f1.transport.exec(
        ["bash", "-c", `mkdir -p ${BACKUP_DIR} && tar -C ${BACKUP_DIR} -xf -`],
        {
          stdin: tar.stdout,
        },
      );
      expect(untar.code, untar.stderr).toBe(0);
      const boxes = { ctl1: f1, ctl2: f2 };
      const planned = await planRestore(ctx("2026-12-04T17:00:00Z", boxes), m.id);
      // Another history now: no count of lost transactions, only the time.
      expect(planned.plan.lost).toMatch(/of history [0-9a-f]{8}$/);
      const result = await carryOutRestore(ctx("2026-12-04T17:00:00Z", boxes), planned, {
        journal: memoryJournal(),
        timing,
      });
      process.stderr.write(`restore into a fresh cluster: ${(result.durationMs / 1000).toFixed(1)} s\n`);
      for (const box of fresh) {
        expect(await status(box)).toEqual({
          wsrep_cluster_size: "2",
          wsrep_local_state_comment: "Synced",
          wsrep_local_state_uuid: m.galera.uuid,
        });
        expect(await rows(box, canaryReadSql(m.id))).toEqual([[m.canary.token]]);
        expect(await rows(box, "SELECT COUNT(*) FROM app.items")).toEqual([["5000"]]);
        expect(
          await rows(
            box,
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'fresh_only'",
          ),
        ).toEqual([["0"]]);
        expect(await must(box, `ls /var/lib/mysql.before-restore-${m.id}`)).toMatch(/fresh_only/);
      }
    } finally {
      await Promise.all(fresh.map((b) => b.stop()));
    }
  }, 900_000);
});
