import { mkdir, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CephBox, startCephBox } from "../../testing/real-ceph.ts";
import { cephJson } from "./ceph-tool.ts";
import { createMgr, createOsd, findOsd } from "./daemons.ts";
import { hostOsdIds, maintenanceOn, refuseReason } from "./maintenance.ts";
import { MGR_UTIL, readPatchState } from "./mgr-patch.ts";
import { rbdRoundTrip } from "./rbd-probe.ts";
import { MgrDump, Status } from "./schemas.ts";
import { cephFsid } from "./settings.ts";

/**
 * One storage host in a lab-image container: the deploy's own functions create a monitor, a
 * manager and a BlueStore OSD on a file, and its cluster steps make the users, ratios and pools.
 * The container has no systemd (nspawn --as-pid2), so daemons are started by hand where the
 * deploy would call systemctl; everything else is what deploy runs.
 */
const host = "sto1";
let c: CephBox;
const capture = process.env.HASTACK_CAPTURE_CEPH_JSON;

beforeAll(async () => {
  // The storage host's files, and the OpenStack clients' keyrings (a controller's, a compute's).
  c = await startCephBox({
    oneStorageHost: true,
    pools: { size: 1, min_size: 1 },
    fileHosts: ["sto1", "ctl1", "cmp1"],
  });
}, 600_000);

afterAll(async () => {
  await c?.stop();
});

describe("a one-host Ceph 18 cluster made by the deploy's functions", () => {
  it("patches mgr_util.py once (the second check finds nothing to do)", async () => {
    expect(await readPatchState(c.box.transport)).toBe("needed");
    const run = await c.step("mgr-patch");
    expect(run).toMatchObject({ before: false, applied: true, after: true });
    expect((await c.box.transport.readFile(MGR_UTIL))?.toString()).toMatch(/^ {4}import bcrypt$/m);
    expect((await c.step("mgr-patch")).applied).toBe(false);
  });

  it("creates a monitor from the initial map; it forms a quorum", async () => {
    await c.createMons([host]);
    const run = await c.step("quorum");
    expect(run.after).toBe(true);
    const st = await cephJson(c.box.transport, ["status"], Status);
    expect(st.fsid).toBe(cephFsid(c.topology));
    expect(st.quorum_names).toEqual([host]);
  }, 300_000);

  it("sets the cephx users and the ratios; a second run changes nothing", async () => {
    expect(await c.step("auth")).toMatchObject({ before: false, after: true });
    expect((await c.step("auth")).applied).toBe(false);
    expect(await c.step("ratios")).toMatchObject({ after: true });
    expect((await c.step("ratios")).applied).toBe(false);
  }, 300_000);

  it("starts a manager whose modules load (the bcrypt fix works)", async () => {
    await createMgr(c.box.transport, host);
    await c.daemon("mgr", host);
    let dump: MgrDump | undefined;
    for (let i = 0; i < 60 && !dump?.available; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      dump = await cephJson(c.box.transport, ["mgr", "dump"], MgrDump);
    }
    expect(dump?.available).toBe(true);
    await new Promise((r) => setTimeout(r, 5000));
    const st = await cephJson(c.box.transport, ["status"], Status);
    expect(Object.keys(st.health.checks).filter((k) => k.startsWith("MGR_MODULE"))).toEqual([]);
  }, 300_000);

  it("creates a BlueStore OSD on a file, finds it again, and the pools get active+clean", async () => {
    const spec = { kind: "file" as const, path: "/var/lib/ceph/disk/osd-block", sizeGb: 2 };
    expect(await findOsd(c.box.transport, spec)).toBeUndefined();
    const id = await createOsd(c.box.transport, host, spec);
    expect(await findOsd(c.box.transport, spec)).toBe(id);
    await c.daemon("osd", String(id));
    expect(await c.step("pools")).toMatchObject({ before: false, after: true });
    expect((await c.step("pools")).applied).toBe(false);
    expect((await c.step("clean")).after).toBe(true);
  }, 900_000);

  it("writes and reads back through RBD; each client key reaches only its own pools", async () => {
    expect((await rbdRoundTrip(c.box.transport)).state).toBe("ok");
    const as = (who: string, cmd: string) =>
      c.box.transport.exec([
        "sh",
        "-c",
        `timeout 30 rbd -n client.${who} -k /etc/ceph/ceph.client.${who}.keyring ${cmd}`,
      ]);
    expect((await as("glance", "create images/g1 --size 4M")).code).toBe(0);
    const denied = await as("glance", "create volumes/g2 --size 4M");
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Operation not permitted|permission denied/i);
    expect((await as("cinder", "ls images")).stdout).toContain("g1");
    expect((await as("cinder", "create images/c1 --size 4M")).code).not.toBe(0);
    expect((await as("cinder", "create volumes/c2 --size 4M")).code).toBe(0);
    expect((await as("nova", "create backups/n1 --size 4M")).code).not.toBe(0);
  }, 300_000);

  it("refuses maintenance that would leave PGs below min_size, and stops nothing", async () => {
    const ids = await hostOsdIds(c.box.transport, host);
    // One copy of everything: any stopped OSD takes PGs below min_size 1.
    expect(await refuseReason(c.box.transport, ids)).toMatch(/would leave \d+ PG\(s\) below min_size/);
    const io = { admin: c.box.transport, host: c.box.transport, log: () => {} };
    await expect(maintenanceOn(io, host)).rejects.toThrow(
      /Cannot take sto1 into maintenance: stopping osd\.0/,
    );
    const st = await cephJson(c.box.transport, ["status"], Status);
    expect([st.osdmap.num_up_osds, st.pgmap.pgs_by_state.map((p) => p.state_name)]).toEqual([
      1,
      ["active+clean"],
    ]);
  }, 300_000);

  it.runIf(capture)("captures the JSON answers the unit tests parse", async () => {
    await mkdir(capture ?? "", { recursive: true });
    const cmds: Record<string, string[]> = {
      status: ["status"],
      "quorum-status": ["quorum_status"],
      "mgr-dump": ["mgr", "dump"],
      "osd-tree": ["osd", "tree"],
      "osd-dump": ["osd", "dump"],
      df: ["df"],
      "crush-rule-dump": ["osd", "crush", "rule", "dump"],
      "auth-get-glance": ["auth", "get", "client.glance"],
      "auth-ls": ["auth", "ls"],
      "osd-ok-to-stop-refused": ["osd", "ok-to-stop", "0"],
    };
    for (const [name, args] of Object.entries(cmds)) {
      const r = await c.box.transport.exec(["ceph", ...args, "-f", "json"]);
      // A refusal answers JSON too, with a non-zero exit: keep both.
      const answer =
        r.code === 0 ? JSON.parse(r.stdout) : { exit: r.code, stdout: r.stdout, stderr: r.stderr };
      await writeFile(`${capture}/${name}.json`, `${JSON.stringify(answer, null, 2)}\n`);
    }
  });
});
