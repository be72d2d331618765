import { allRunning, ensureRunning, startDeliberately, systemctl } from "../../hostkit/systemd.ts";
import type { Topology } from "../../topology/types.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { cephJson } from "./ceph-tool.ts";
import { authStep, cleanStep, poolsStep, ratiosStep } from "./cluster-steps.ts";
import { createMgr, createMon, createOsd, findOsd, mgrCreated, monCreated } from "./daemons.ts";
import { monAddrVec, monHosts, osdHosts } from "./layout.ts";
import { applyMgrPatch, readPatchState } from "./mgr-patch.ts";
import { daemonAges, restartDaemons, staleDaemons, unitOf } from "./restart.ts";
import { QuorumStatus } from "./schemas.ts";
import { cephFsid, cephSettings, osdSpecs } from "./settings.ts";
import { staleKeysStep } from "./stale-keys.ts";

/** The targets the lab image masks (every ceph* unit): masked, an enabled daemon never comes back after a power cycle. */
export const CEPH_TARGETS = ["ceph.target", "ceph-mon.target", "ceph-mgr.target", "ceph-osd.target"];

const units: StepSpec = {
  id: "units",
  title: "Unmask and enable ceph.target and the mon/mgr/osd targets (daemons come back at boot)",
  on: "each",
  async check(ctx) {
    for (const u of [...CEPH_TARGETS, "ceph-mon@.service", "ceph-mgr@.service", "ceph-osd@.service"]) {
      const r = await ctx.transport.exec(["systemctl", "is-enabled", u]);
      if (r.stdout.trim().startsWith("masked")) return false;
    }
    return allRunning(ctx.transport, ["ceph.target"]);
  },
  async apply(ctx) {
    await systemctl(ctx.transport, "unmask", [
      ...CEPH_TARGETS,
      "ceph-mon@.service",
      "ceph-mgr@.service",
      "ceph-osd@.service",
    ]);
    await systemctl(ctx.transport, "enable", CEPH_TARGETS);
    await systemctl(ctx.transport, "start", ["ceph.target"]);
  },
};

const mgrPatch: StepSpec = {
  id: "mgr-patch",
  title: "Import bcrypt lazily in ceph-mgr's mgr_util.py (every mgr module fails on 18.2.7 otherwise)",
  on: "each",
  async check(ctx) {
    return (await readPatchState(ctx.transport)) !== "needed";
  },
  async apply(ctx) {
    await applyMgrPatch(ctx.transport);
    // A manager that already runs loaded the failing modules: only a restart loads them again.
    const unit = `ceph-mgr@${ctx.host.name}`;
    if ((await ctx.transport.exec(["systemctl", "is-active", "--quiet", unit])).code === 0)
      await startDeliberately(ctx.transport, "restart", [unit]);
  },
};

function monKeys(ctx: StepContext) {
  return {
    mon: ctx.secret("ceph_mon_key"),
    admin: ctx.secret("ceph_admin_key"),
    bootstrapOsd: ctx.secret("ceph_bootstrap_osd_key"),
  };
}

/** Does any monitor answer with a quorum? (Then a new monitor joins it instead of seeding.) */
async function quorumReachable(ctx: StepContext): Promise<boolean> {
  const q = await cephJson(ctx.transport, ["quorum_status"], QuorumStatus, { connectTimeoutS: 5 }).catch(
    () => undefined,
  );
  return (q?.quorum_names.length ?? 0) > 0;
}

/**
 * Every monitor at once (an `each` step): each store is created from the same initial map, and
 * systemd starts them; the quorum forms as soon as a majority runs. A monitor created later
 * (a new host, a replaced disk) takes the running cluster's map and joins.
 */
const mon: StepSpec = {
  id: "mon",
  title: "Create the monitor store (initial map of every monitor, or the cluster's) and start ceph-mon",
  on: "each",
  after: ["files", "units"],
  timeoutMs: 300_000,
  async check(ctx) {
    return (
      (await monCreated(ctx.transport, ctx.host.name)) &&
      allRunning(ctx.transport, [`ceph-mon@${ctx.host.name}`])
    );
  },
  async apply(ctx) {
    const name = ctx.host.name;
    if (!(await monCreated(ctx.transport, name))) {
      const seed = {
        fsid: cephFsid(ctx.topology),
        mons: monHosts(ctx.topology).map((h) => [h.name, monAddrVec(ctx.topology, h)] as [string, string]),
      };
      const join = await quorumReachable(ctx);
      await createMon(ctx.transport, name, monKeys(ctx), seed, join);
      ctx.log.info(`created ceph-mon.${name} (${join ? "joined the running cluster's map" : "initial map"})`);
    }
    await ensureRunning(ctx.transport, [`ceph-mon@${name}`]);
  },
};

async function quorumComplete(ctx: StepContext): Promise<true | string> {
  const want = monHosts(ctx.topology).map((h) => h.name);
  const q = await cephJson(ctx.transport, ["quorum_status"], QuorumStatus);
  const missing = want.filter((n) => !q.quorum_names.includes(n));
  return missing.length === 0 ? true : `not in quorum: ${missing.join(", ")}`;
}

const quorum: StepSpec = {
  id: "quorum",
  title: "Every monitor in the quorum",
  on: "serial",
  after: ["mon"],
  async check(ctx) {
    return (await quorumComplete(ctx).catch((e: Error) => e.message)) === true;
  },
  async apply(ctx) {
    await waitUntil(ctx, "get every Ceph monitor into the quorum", () => quorumComplete(ctx), {
      timeoutMs: 180_000,
    });
  },
};

const mgr: StepSpec = {
  id: "mgr",
  title: "Create the manager's key and start ceph-mgr beside each monitor",
  on: "each",
  after: ["quorum", "mgr-patch", "auth"],
  async check(ctx) {
    return (
      (await mgrCreated(ctx.transport, ctx.host.name)) &&
      allRunning(ctx.transport, [`ceph-mgr@${ctx.host.name}`])
    );
  },
  async apply(ctx) {
    if (!(await mgrCreated(ctx.transport, ctx.host.name))) await createMgr(ctx.transport, ctx.host.name);
    await ensureRunning(ctx.transport, [`ceph-mgr@${ctx.host.name}`]);
  },
};

async function osdState(ctx: StepContext): Promise<{ missing: string[]; ids: number[] }> {
  const missing: string[] = [];
  const ids: number[] = [];
  for (const spec of osdSpecs(cephSettings(ctx.topology), ctx.host.name)) {
    const id = await findOsd(ctx.transport, spec);
    if (id === undefined) missing.push(spec.path);
    else ids.push(id);
  }
  return { missing, ids };
}

/** One host at a time, so a new host's backfill never starts on every host at once. */
const osd: StepSpec = {
  id: "osd",
  title: "Create a BlueStore OSD per listed device (ceph-volume) or lab file, and start it",
  on: "serial",
  after: ["quorum", "files", "units", "auth"],
  timeoutMs: 900_000,
  async check(ctx) {
    const { missing, ids } = await osdState(ctx);
    if (missing.length > 0) return false;
    return allRunning(
      ctx.transport,
      ids.map((id) => `ceph-osd@${id}`),
    );
  },
  async apply(ctx) {
    const { missing, ids } = await osdState(ctx);
    for (const path of missing) {
      const spec = osdSpecs(cephSettings(ctx.topology), ctx.host.name).find((s) => s.path === path);
      if (!spec) continue;
      const id = await createOsd(ctx.transport, ctx.host.name, spec);
      ctx.log.info(`created osd.${id} on ${path}`);
      ids.push(id);
    }
    await ensureRunning(
      ctx.transport,
      ids.map((id) => `ceph-osd@${id}`),
    );
  },
};

/**
 * After everything else, one host at a time: daemons that started before ceph.conf was last
 * written restart in the safe order (restart.ts). A deploy that wrote no ceph.conf finds none.
 */
const rollingRestart: StepSpec = {
  id: "rolling-restart",
  title:
    "Restart daemons running an older ceph.conf: monitors one at a time in quorum, OSDs with noout, active+clean before the next host",
  on: "serial",
  after: ["clean"],
  timeoutMs: 1_800_000,
  async check(ctx) {
    const stale = staleDaemons(await daemonAges(ctx.transport));
    if (stale.length > 0 && ctx.dryRun)
      ctx.log.info(`would restart ${stale.map(unitOf).join(", ")} (started before ceph.conf was written)`);
    return stale.length === 0;
  },
  async apply(ctx) {
    const stale = staleDaemons(await daemonAges(ctx.transport));
    // The admin keyring is on monitor hosts; another one's `ceph` keeps answering while this
    // host's monitor restarts.
    const mons = monHosts(ctx.topology).map((h) => h.name);
    const other = mons.find((m) => m !== ctx.host.name);
    const admin = other ? ctx.peer(other) : ctx.transport;
    const done = await restartDaemons(
      {
        admin,
        host: ctx.transport,
        restart: (unit) => startDeliberately(ctx.transport, "restart", [unit]),
        log: (line) => ctx.log.info(line),
        signal: ctx.signal,
      },
      stale,
    );
    ctx.log.info(`restarted ${done.join(", ")} for the new ceph.conf`);
  },
};

export function cephSteps(topology: Topology): StepSpec[] {
  const mons = monHosts(topology).map((h) => h.name);
  const first = mons.slice(0, 1);
  const daemons = [...new Set([...mons, ...osdHosts(topology).map((h) => h.name)])];
  return [
    { id: "files", title: "Write ceph.conf and the keyrings each host needs", on: "each" },
    staleKeysStep,
    { ...units, hosts: daemons },
    { ...mgrPatch, hosts: mons },
    { ...mon, hosts: mons },
    { ...quorum, hosts: first },
    { ...authStep, hosts: first },
    { ...ratiosStep, hosts: first },
    { ...mgr, hosts: mons },
    { ...osd, hosts: osdHosts(topology).map((h) => h.name) },
    { ...poolsStep, hosts: first },
    { ...cleanStep, hosts: first },
    { ...rollingRestart, hosts: daemons },
  ];
}
