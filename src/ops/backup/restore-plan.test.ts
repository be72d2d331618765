import { describe, expect, it } from "vitest";
import type { NodeFacts, NodeState } from "./choose-host.ts";
import { sampleManifest } from "./fixtures.ts";
import { type HostFacts, restorePlan, restorePlanText, unfinishedId } from "./restore-plan.ts";
import type { RestoreState } from "./restore-state.ts";

const m = sampleManifest();
const backup = { id: m.id, where: "pool hastack-backups", manifest: m };
const synced: NodeState = {
  WSREP_LOCAL_STATE: "4",
  WSREP_READY: "ON",
  WSREP_CLUSTER_STATUS: "Primary",
  WSREP_LOCAL_STATE_UUID: m.galera.uuid,
  WSREP_LAST_COMMITTED: "9120",
  WSREP_DESYNC: "0",
};

function host(name: string, over: Partial<HostFacts> = {}, node: Partial<NodeFacts> = {}): HostFacts {
  return {
    node: { host: name, holdsVip: false, writer: name === "ctl1", state: synced, ...node },
    datadir: { asides: [], mountpoint: false },
    ...over,
  };
}

function state(over: Partial<RestoreState>): RestoreState {
  return {
    format: 1,
    id: m.id,
    role: "join",
    aside: `/var/lib/mysql.before-restore-${m.id}`,
    phase: "aside",
    at: "2026-12-05T10:00:00.000Z",
    ...over,
  };
}

const input = (hosts: HostFacts[], b = backup) => ({
  site: "lab",
  backup: b,
  storeDescription: "Ceph pool hastack-backups",
  hosts,
});
const three = () => [host("ctl1"), host("ctl2"), host("ctl3")];

describe("the restore plan", () => {
  it("puts the backup on the first controller, joins the others by SST, and says what is lost", () => {
    const plan = restorePlan(input(three()));
    expect(plan).toMatchObject({
      id: m.id,
      bootstrap: "ctl1",
      join: ["ctl2", "ctl3"],
      resumed: {},
      aside: {
        ctl1: `/var/lib/mysql.before-restore-${m.id}`,
        ctl2: `/var/lib/mysql.before-restore-${m.id}`,
        ctl3: `/var/lib/mysql.before-restore-${m.id}`,
      },
    });
    expect(plan.lost).toBe(
      "every write after the backup (2026-12-04T15:12:41.500Z) is lost: the backup's point is between seqno 8391 and 8394 of history a32b03fe; the cluster is at seqno 9120, about 726 transaction(s) later",
    );
    expect(plan.steps).toEqual([
      "ctl1: fetch the 2 part(s) from Ceph pool hastack-backups, check their sha256, unpack and prepare them (mariadb-backup --prepare); nothing is stopped before this passed",
      "ctl2, ctl3, ctl1: stop mariadb",
      `ctl1: move /var/lib/mysql aside to /var/lib/mysql.before-restore-${m.id} (kept), an empty /var/lib/mysql in its place`,
      `ctl2: move /var/lib/mysql aside to /var/lib/mysql.before-restore-${m.id} (kept), an empty /var/lib/mysql in its place`,
      `ctl3: move /var/lib/mysql aside to /var/lib/mysql.before-restore-${m.id} (kept), an empty /var/lib/mysql in its place`,
      "ctl1: mariadb-backup --move-back into /var/lib/mysql, grastate.dat at the backup's position (safe_to_bootstrap: 1)",
      "ctl1: galera_new_cluster, until Primary and Synced",
      "ctl2, ctl3: start mariadb, one at a time: each joins by SST from the new cluster, until Synced",
      `every controller: the canary row of ${m.id} read back with the manifest's token`,
    ]);
    const text = restorePlanText(plan);
    expect(text).toContain(`restore backup ${m.id} into the Galera cluster of site lab`);
    expect(text).toContain("taken 2026-12-04T15:12:41.500Z on ctl3, seqno 8391-8394 of history a32b03fe-");
    expect(text).toContain("bootstrap  ctl1 gets the backup and bootstraps the new cluster");
    expect(text).toContain("join       ctl2, ctl3 join by SST");
    expect(text).toContain("ctl2: Synced, seqno 9120 of history a32b03fe");
    expect(text).toContain("LOST       every write after the backup");
  });

  it("restores a backup kept on a controller where its parts are, and names a taken aside path anew", () => {
    const onCtl2 = {
      ...backup,
      where: "ctl2",
      manifest: sampleManifest({
        store: { kind: "controller", host: "ctl2", dir: "/var/lib/hastack/backups" },
      }),
    };
    const hosts = three();
    const taken = `/var/lib/mysql.before-restore-${m.id}`;
    hosts[1] = host("ctl2", { datadir: { asides: [taken, `${taken}.2`], mountpoint: false } });
    const plan = restorePlan(input(hosts, onCtl2));
    expect(plan).toMatchObject({ bootstrap: "ctl2", join: ["ctl1", "ctl3"] });
    expect(plan.aside.ctl2).toBe(`${taken}.3`);
    expect(plan.aside.ctl1).toBe(taken);
  });

  it("with nodes down and another history, says so rather than a count", () => {
    const hosts = [
      host("ctl1", {}, { state: undefined, why: "MariaDB does not answer: ERROR 2002" }),
      host(
        "ctl2",
        {},
        { state: { ...synced, WSREP_LOCAL_STATE_UUID: "b0000000-0000-0000-0000-000000000000" } },
      ),
      host("ctl3", {}, { state: { ...synced, WSREP_LOCAL_STATE: "2" } }),
    ];
    const plan = restorePlan(input(hosts));
    expect(plan.now).toEqual([
      { host: "ctl1", state: "MariaDB does not answer: ERROR 2002" },
      { host: "ctl2", state: "Synced, seqno 9120 of history b0000000" },
      { host: "ctl3", state: "a donor (wsrep_local_state 2), seqno 9120 of history a32b03fe" },
    ]);
    expect(plan.lost).toMatch(/the cluster is at seqno 9120/);
    const none = restorePlan(input([hosts[0] as HostFacts, hosts[1] as HostFacts]));
    expect(none.lost).toMatch(/of history a32b03fe$/);
  });

  it("resumes a cut-short restore of the same backup: its bootstrap node, its aside paths, no second fetch or bootstrap", () => {
    const hosts = [
      host("ctl1", { state: state({ role: "join", phase: "aside" }) }),
      host("ctl2", {
        state: state({
          role: "bootstrap",
          phase: "started",
          aside: `/var/lib/mysql.before-restore-${m.id}.2`,
        }),
      }),
      host("ctl3"),
    ];
    expect(unfinishedId(hosts)).toBe(m.id);
    const plan = restorePlan(input(hosts));
    expect(plan).toMatchObject({
      bootstrap: "ctl2",
      join: ["ctl1", "ctl3"],
      resumed: { ctl1: "aside", ctl2: "started" },
      aside: { ctl2: `/var/lib/mysql.before-restore-${m.id}.2` },
    });
    expect(plan.steps).toEqual([
      "ctl1, ctl3: stop mariadb",
      `ctl1: empty the /var/lib/mysql the cut-short restore left (the old datadir stays at /var/lib/mysql.before-restore-${m.id})`,
      `ctl3: move /var/lib/mysql aside to /var/lib/mysql.before-restore-${m.id} (kept), an empty /var/lib/mysql in its place`,
      "ctl1, ctl3: start mariadb, one at a time: each joins by SST from the new cluster, until Synced",
      `every controller: the canary row of ${m.id} read back with the manifest's token`,
    ]);
    expect(restorePlanText(plan)).toContain(
      "resuming   a cut-short restore of this backup: ctl1 aside, ctl2 started",
    );
  });

  it("resumes a run cut short while it recorded done: only the canary check is left", () => {
    const hosts = three().map((h) => ({
      ...h,
      state: state({
        phase: h.node.host === "ctl3" ? "started" : "done",
        role: h.node.host === "ctl1" ? "bootstrap" : "join",
      }),
    }));
    const plan = restorePlan(input(hosts));
    expect(plan.resumed).toEqual({ ctl1: "done", ctl2: "done", ctl3: "started" });
    expect(plan.steps).toEqual([
      `every controller: the canary row of ${m.id} read back with the manifest's token`,
    ]);
  });

  it("starts anew after a finished restore of the same backup, next to the datadirs it kept", () => {
    const taken = `/var/lib/mysql.before-restore-${m.id}`;
    const hosts = three().map((h) => ({
      ...h,
      state: state({ phase: "done", role: h.node.host === "ctl1" ? "bootstrap" : "join" }),
      datadir: { asides: [taken], mountpoint: false },
    }));
    expect(unfinishedId(hosts)).toBeUndefined();
    const plan = restorePlan(input(hosts));
    expect(plan.resumed).toEqual({});
    expect(Object.values(plan.aside)).toEqual([`${taken}.2`, `${taken}.2`, `${taken}.2`]);
    expect(plan.steps[0]).toMatch(/^ctl1: fetch/);
  });

  it("refuses, before anything changes, with a controller unreachable", () => {
    const hosts = three();
    hosts[2] = host(
      "ctl3",
      { datadir: undefined },
      { state: undefined, unreachable: true, why: "Cannot connect to ctl3: timed out" },
    );
    expect(() => restorePlan(input(hosts))).toThrow(
      `Cannot restore backup ${m.id}: ctl3 cannot be reached (Cannot connect to ctl3: timed out): a restore stops and rebuilds the Galera node of every controller`,
    );
  });

  it("refuses while another backup's restore is unfinished, naming where each old datadir is and how to go on", () => {
    const other = "20261201T000000Z";
    const hosts = three();
    hosts[0] = host("ctl1", {
      state: state({
        id: other,
        role: "bootstrap",
        phase: "restored",
        aside: `/var/lib/mysql.before-restore-${other}`,
      }),
    });
    let error: { code?: string; message?: string; hint?: string } = {};
    try {
      restorePlan(input(hosts));
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe("E_BACKUP_RESTORE_REFUSED");
    expect(error.message).toBe(
      `Cannot restore backup ${m.id}: the restore of backup ${other} is unfinished on ctl1 (bootstrap, restored, old datadir at /var/lib/mysql.before-restore-${other})`,
    );
    expect(error.hint).toContain(`hastack backup restore ${other} --yes`);
    expect(error.hint).toContain("mv <old datadir> /var/lib/mysql");
  });

  it("refuses a datadir that is a mount point (it cannot be renamed aside), unless already set aside", () => {
    const hosts = three();
    hosts[1] = host("ctl2", { datadir: { asides: [], mountpoint: true } });
    expect(() => restorePlan(input(hosts))).toThrow(
      `Cannot restore backup ${m.id}: /var/lib/mysql is a mount point on ctl2: the restore keeps the old datadir by renaming it, which a mount point cannot be`,
    );
    hosts[1] = host("ctl2", { datadir: { asides: [], mountpoint: true }, state: state({ phase: "aside" }) });
    hosts[0] = host("ctl1", { state: state({ role: "bootstrap", phase: "restored" }) });
    expect(restorePlan(input(hosts)).resumed).toEqual({ ctl1: "restored", ctl2: "aside" });
  });
});
