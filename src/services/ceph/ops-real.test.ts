import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapCeph, type CephBox, startCephBox } from "../../testing/real-ceph.ts";
import { cephJson, ceph as cephTool } from "./ceph-tool.ts";
import { allClean, waitFor } from "./converge.ts";
import { findOsd } from "./daemons.ts";
import { replaceOsd } from "./replace-osd.ts";
import { daemonAges, restartDaemons, staleDaemons, unitOf } from "./restart.ts";
import { OsdDump, QuorumStatus, Status } from "./schemas.ts";
import type { OsdSpec } from "./settings.ts";

/**
 * The book's operations against a real Ceph 18 in one lab-image container: three monitors (the
 * storage hosts' names and addresses, on the container's loopback), one manager, three BlueStore
 * OSDs on files, made by the deploy's own functions and steps. Copies are spread over OSDs
 * (failure domain osd), since every OSD sits on the one host. The container has no systemd, so
 * where the commands call systemctl the test stops and starts the daemon process itself.
 */
const host = "sto1";
const files: OsdSpec[] = ["a", "b", "c"].map((n) => ({
  kind: "file" as const,
  path: `/var/lib/ceph/disk/osd-${n}`,
  sizeGb: 2,
}));
let c: CephBox;

beforeAll(async () => {
  c = await startCephBox({
    oneStorageHost: false,
    pools: { size: 2, min_size: 1, pg_num: 8 },
    timeoutMs: 1_800_000,
  });
}, 600_000);

afterAll(async () => {
  await c?.stop();
});

/** The daemon's process, started as systemd's unit would (what restart and replace-osd call). */
const start = (kind: string, id: string) => c.daemon(kind as "mon" | "mgr" | "osd", id);

/** SIGTERM to the one process of that daemon (by its pid), then wait until it is gone. */
async function stop(kind: string, id: string): Promise<void> {
  const script = `for p in $(pgrep -x ceph-${kind}); do tr '\\0' ' ' < /proc/$p/cmdline | grep -q -- "-i ${id} " && echo $p; done`;
  const pid = (await c.box.transport.exec(["bash", "-c", script])).stdout.trim();
  expect(pid).toMatch(/^\d+$/);
  await c.box.transport.exec(["kill", pid]);
  for (let i = 0; i < 120 && (await c.box.transport.exec(["kill", "-0", pid])).code === 0; i++)
    await new Promise((r) => setTimeout(r, 500));
}

async function restartUnit(unit: string): Promise<void> {
  const [, kind = "", id = ""] = /^ceph-(\w+)@(.+)$/.exec(unit) ?? [];
  await stop(kind, id);
  await start(kind, id);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const io = () => ({ admin: c.box.transport, host: c.box.transport, log });

async function pools(key: "size" | "min_size", value: number): Promise<void> {
  for (const p of ["images", "volumes", "vms", "backups"])
    await cephTool(c.box.transport, `set ${key} of ${p}`, ["osd", "pool", "set", p, key, String(value)]);
  await waitFor({ log }, "E_CEPH", "get every PG active+clean", () => allClean(c.box.transport), 300_000);
}

describe("Ceph operations on a real three-monitor, three-OSD cluster", () => {
  it("is made by the deploy's functions and gets every PG active+clean", async () => {
    expect(await bootstrapCeph(c, { osds: files, mgr: true })).toEqual([0, 1, 2]);
    await waitFor({ log }, "E_CEPH", "get every PG active+clean", () => allClean(c.box.transport), 600_000);
  }, 1_200_000);

  it("restarts nothing while every daemon started after ceph.conf was written", async () => {
    const ages = await daemonAges(c.box.transport);
    expect(ages.daemons.map(unitOf).sort()).toEqual(
      [
        "ceph-mgr@sto1",
        "ceph-mon@sto1",
        "ceph-mon@sto2",
        "ceph-mon@sto3",
        "ceph-osd@0",
        "ceph-osd@1",
        "ceph-osd@2",
      ].sort(),
    );
    expect(staleDaemons(ages)).toEqual([]);
    expect((await c.step("rolling-restart")).before).toBe(true);
  });

  it("after ceph.conf is rewritten, refuses OSD restarts that would take PGs below min_size, restarting none", async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const conf = (await c.box.transport.readFile("/etc/ceph/ceph.conf"))?.toString() ?? "";
    await c.box.transport.writeFile("/etc/ceph/ceph.conf", `${conf}# rewritten by the test\n`, {
      owner: "root",
      group: "root",
      mode: 0o644,
    });
    const stale = staleDaemons(await daemonAges(c.box.transport));
    expect(stale.map(unitOf)).toEqual([
      "ceph-mon@sto1",
      "ceph-mon@sto2",
      "ceph-mon@sto3",
      "ceph-mgr@sto1",
      "ceph-osd@0",
      "ceph-osd@1",
      "ceph-osd@2",
    ]);
    await pools("min_size", 2);
    const before = (await cephJson(c.box.transport, ["osd", "dump"], OsdDump)).osds.map((o) => o.up_from);
    await expect(
      restartDaemons(
        { ...io(), restart: restartUnit },
        stale.filter((d) => d.kind === "osd"),
      ),
    ).rejects.toThrow(
      /Cannot restart ceph-osd@0 on sto1 for the new \/etc\/ceph\/ceph.conf: stopping osd\.0 would leave/,
    );
    expect((await cephJson(c.box.transport, ["osd", "dump"], OsdDump)).osds.map((o) => o.up_from)).toEqual(
      before,
    );
    await pools("min_size", 1);
  }, 600_000);

  it("restarts monitors one at a time in quorum, the manager, then OSDs with noout, never a PG below min_size", async () => {
    const samples: string[][] = [];
    const quorums: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const st = await cephJson(c.box.transport, ["status"], Status, { connectTimeoutS: 5 }).catch(
          () => undefined,
        );
        if (st) {
          samples.push(st.pgmap.pgs_by_state.map((p) => p.state_name));
          quorums.push(st.quorum_names.length);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const stale = staleDaemons(await daemonAges(c.box.transport));
    const done = await restartDaemons({ ...io(), restart: restartUnit }, stale);
    sampling = false;
    await sampler;
    expect(done).toEqual(stale.map(unitOf));
    expect(staleDaemons(await daemonAges(c.box.transport))).toEqual([]);
    expect((await c.step("rolling-restart")).before).toBe(true);
    // Per-OSD noout shows in each OSD's state: none may be left behind.
    const dump = await cephJson(c.box.transport, ["osd", "dump"], OsdDump);
    expect(dump.osds.filter((o) => o.state.includes("noout")).map((o) => o.osd)).toEqual([]);
    expect(samples.length).toBeGreaterThan(5);
    const below = samples
      .flat()
      .filter((s) => s.split("+").some((p) => ["peered", "down", "incomplete"].includes(p)));
    process.stderr.write(
      `restart: ${samples.length} samples, states ${[...new Set(samples.flat())].join(", ")}\n`,
    );
    expect(below).toEqual([]);
    // Every answer came from a quorum of at least two of the three monitors.
    expect(Math.min(...quorums)).toBeGreaterThanOrEqual(2);
    expect(await allClean(c.box.transport)).toBe(true);
  }, 1_200_000);

  const ops = () => ({
    ...io(),
    failureDomain: "osd" as const,
    startOsd: (id: number) => start("osd", String(id)),
    stopOsd: (id: number) => stop("osd", String(id)),
    timeoutMs: 600_000,
  });

  it("replaces an OSD by draining it first: same id, a new disk, backfilled, active+clean", async () => {
    const spec = files[2] as OsdSpec;
    const id = await findOsd(c.box.transport, spec);
    const report = await replaceOsd(ops(), spec);
    expect(report).toMatchObject({ host, osd: id, mode: "drain", paused: false });
    expect(report.newUuid).toBeDefined();
    expect(report.newUuid).not.toBe(report.oldUuid);
    expect(await findOsd(c.box.transport, spec)).toBe(id);
    const dump = await cephJson(c.box.transport, ["osd", "dump"], OsdDump);
    expect(dump.osds.map((o) => [o.osd, o.up, o.in])).toEqual([
      [0, 1, 1],
      [1, 1, 1],
      [2, 1, 1],
    ]);
    expect(await allClean(c.box.transport)).toBe(true);
  }, 1_200_000);

  it("refuses to drain when no other OSD could take its copies, then replaces it in place above min_size", async () => {
    await pools("size", 3);
    const spec = files[1] as OsdSpec;
    const id = await findOsd(c.box.transport, spec);
    await expect(replaceOsd(ops(), spec)).rejects.toThrow(
      new RegExp(
        `Cannot replace osd\\.${id} on sto1: draining it needs 3 other OSDs to hold every copy, and there are 2`,
      ),
    );
    const untouched = (await cephJson(c.box.transport, ["osd", "dump"], OsdDump)).osds.find(
      (o) => o.osd === id,
    );
    expect([untouched?.up, untouched?.in]).toEqual([1, 1]);
    await pools("min_size", 2);
    const report = await replaceOsd(ops(), spec, { inPlace: true });
    expect(report).toMatchObject({ osd: id, mode: "in-place", drainMs: 0 });
    expect(report.newUuid).not.toBe(report.oldUuid);
    const dump = await cephJson(c.box.transport, ["osd", "dump"], OsdDump);
    expect(dump.osds.every((o) => o.up === 1 && o.in === 1)).toBe(true);
    const q = await cephJson(c.box.transport, ["quorum_status"], QuorumStatus);
    expect(q.quorum_names).toEqual(["sto1", "sto2", "sto3"]);
  }, 1_200_000);
});
