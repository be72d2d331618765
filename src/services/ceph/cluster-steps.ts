import { serializeDoc } from "../../formats/serialize.ts";
import type { Transport } from "../../transport/types.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { ceph, cephJson } from "./ceph-tool.ts";
import { keyring } from "./conf.ts";
import {
  ADMIN_CAPS,
  BACKUP_CLIENT,
  BOOTSTRAP_OSD_CAPS,
  CLIENTS,
  clientCaps,
  FENCE_CLIENT,
} from "./layout.ts";
import { AuthDump, CrushRules, OsdDump, Status } from "./schemas.ts";
import { type CephSettings, cephSettings, osdSpecs, POOLS } from "./settings.ts";

/** Cluster-wide steps, run on the first monitor host (it holds the admin keyring). */

interface Entity {
  name: string;
  secret: string;
  caps: Record<string, string>;
}

export function entities(): Entity[] {
  return [
    { name: "client.admin", secret: "ceph_admin_key", caps: ADMIN_CAPS },
    { name: "client.bootstrap-osd", secret: "ceph_bootstrap_osd_key", caps: BOOTSTRAP_OSD_CAPS },
    ...CLIENTS.map((c) => ({ name: `client.${c.name}`, secret: c.secret, caps: clientCaps(c) })),
    { name: FENCE_CLIENT.name, secret: FENCE_CLIENT.secret, caps: FENCE_CLIENT.caps },
    { name: BACKUP_CLIENT.name, secret: BACKUP_CLIENT.secret, caps: BACKUP_CLIENT.caps },
  ];
}

/** One `auth ls` (each `ceph` call costs a Python start and a monitor session): entities whose key or caps differ. */
async function wrongEntities(ctx: StepContext): Promise<Entity[]> {
  const all = (await cephJson(ctx.transport, ["auth", "ls"], AuthDump)).auth_dump;
  return entities().filter((e) => {
    const got = all.find((x) => x.entity === e.name);
    return (
      got?.key !== ctx.secret(e.secret) ||
      JSON.stringify(sortKeys(got.caps)) !== JSON.stringify(sortKeys(e.caps))
    );
  });
}

function sortKeys(caps: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(caps).sort(([a], [b]) => a.localeCompare(b)));
}

/** Keys from the secrets file, caps from code: `auth import` sets both, whatever was there. */
export const authStep: StepSpec = {
  id: "auth",
  title:
    "cephx users admin, bootstrap-osd, glance, cinder, nova, hastack-ha, hastack-backup with their keys and caps",
  on: "serial",
  after: ["quorum"],
  async check(ctx) {
    const wrong = await wrongEntities(ctx);
    if (wrong.length > 0 && ctx.dryRun) ctx.log.info(`would set: ${wrong.map((e) => e.name).join(", ")}`);
    return wrong.length === 0;
  },
  async apply(ctx) {
    const wrong = await wrongEntities(ctx);
    const text = wrong.map((e) => serializeDoc(keyring(e.name, ctx.secret(e.secret), e.caps))).join("\n");
    await ceph(
      ctx.transport,
      `import ${wrong.map((e) => e.name).join(", ")}`,
      ["auth", "import", "-i", "-"],
      {
        stdin: text,
      },
    );
  },
};

function ratios(s: CephSettings): [keyof OsdDump & string, string, number][] {
  return [
    ["nearfull_ratio", "set-nearfull-ratio", s.nearfull_ratio],
    ["backfillfull_ratio", "set-backfillfull-ratio", s.backfillfull_ratio],
    ["full_ratio", "set-full-ratio", s.full_ratio],
  ];
}

export const ratiosStep: StepSpec = {
  id: "ratios",
  title: "Set the nearfull, backfillfull and full ratios",
  on: "serial",
  after: ["quorum"],
  async check(ctx) {
    const dump = await cephJson(ctx.transport, ["osd", "dump"], OsdDump);
    return ratios(cephSettings(ctx.topology)).every(
      ([field, , want]) => Math.abs((dump[field] as number) - want) < 1e-6,
    );
  },
  async apply(ctx) {
    // Order matters: Ceph refuses a nearfull above backfillfull or full at each moment. Lowering
    // goes from nearfull up, raising from full down; both orders work from any start when each
    // set is retried once after the others.
    const list = ratios(cephSettings(ctx.topology));
    for (const pass of [1, 2])
      for (const [, verb, want] of pass === 1 ? list : [...list].reverse())
        await ceph(ctx.transport, `set ${verb}`, ["osd", verb, String(want)]).catch((e) => {
          if (pass === 2) throw e;
        });
  },
};

export function ruleName(s: CephSettings): string {
  return `hastack_replicated_${s.failure_domain}`;
}

interface PoolDiff {
  pool: string;
  fixes: string[][];
}

async function poolDiffs(t: Transport, s: CephSettings): Promise<{ rule: boolean; diffs: PoolDiff[] }> {
  const rules = await cephJson(t, ["osd", "crush", "rule", "dump"], CrushRules);
  const rule = rules.find((r) => r.rule_name === ruleName(s));
  const dump = await cephJson(t, ["osd", "dump"], OsdDump);
  const diffs: PoolDiff[] = [];
  // OpenStack's RBD pools, and hastack's backup pool (RADOS objects, its own application tag).
  const wanted = [
    ...POOLS.map((name) => ({ name, app: "rbd" })),
    { name: BACKUP_CLIENT.pool, app: BACKUP_CLIENT.application },
  ];
  for (const { name, app } of wanted) {
    const p = dump.pools.find((x) => x.pool_name === name);
    const pg = String(s.pools.pg_num);
    if (!p) {
      // Created first; what the new pool got from the defaults is compared on the next pass.
      diffs.push({ pool: name, fixes: [["osd", "pool", "create", name, pg, pg, "replicated", ruleName(s)]] });
      continue;
    }
    const fixes: string[][] = [];
    // One copy loses data with any disk: only when the inventory says size 1, and Ceph wants it said twice.
    const sure = s.pools.size === 1 ? ["--yes-i-really-mean-it"] : [];
    if (p.size !== s.pools.size)
      fixes.push(["osd", "pool", "set", name, "size", String(s.pools.size), ...sure]);
    if (p.min_size !== s.pools.min_size)
      fixes.push(["osd", "pool", "set", name, "min_size", String(s.pools.min_size)]);
    // PGs only grow: merging them is slow and risky, an operator's decision.
    if (p.pg_num < s.pools.pg_num) fixes.push(["osd", "pool", "set", name, "pg_num", pg]);
    if (rule && p.crush_rule !== rule.rule_id)
      fixes.push(["osd", "pool", "set", name, "crush_rule", ruleName(s)]);
    if (!p.application_metadata[app]) fixes.push(["osd", "pool", "application", "enable", name, app]);
    if (fixes.length > 0) diffs.push({ pool: name, fixes });
  }
  return { rule: rule !== undefined, diffs };
}

export const poolsStep: StepSpec = {
  id: "pools",
  title:
    "Pools images, volumes, vms, backups (rbd) and hastack-backups: replicated over the failure domain, size/min_size, application",
  on: "serial",
  after: ["osd", "mgr"],
  async check(ctx) {
    const { rule, diffs } = await poolDiffs(ctx.transport, cephSettings(ctx.topology));
    if (ctx.dryRun && diffs.length > 0)
      ctx.log.info(`would change pools: ${diffs.map((d) => d.pool).join(", ")}`);
    return rule && diffs.length === 0;
  },
  async apply(ctx) {
    const s = cephSettings(ctx.topology);
    const first = await poolDiffs(ctx.transport, s);
    if (!first.rule)
      await ceph(ctx.transport, `create CRUSH rule ${ruleName(s)}`, [
        "osd",
        "crush",
        "rule",
        "create-replicated",
        ruleName(s),
        "default",
        s.failure_domain,
      ]);
    // Pass 1 creates missing pools, pass 2 fixes what they (or existing ones) got wrong.
    for (const _pass of [1, 2]) {
      const { diffs } = await poolDiffs(ctx.transport, s);
      for (const d of diffs)
        for (const args of d.fixes) await ceph(ctx.transport, `change pool ${d.pool}`, args);
    }
  },
};

/** Every listed OSD up and in, every PG active+clean: what "a deploy finished" means for Ceph. */
export async function converged(t: Transport, s: CephSettings, hosts: string[]): Promise<true | string> {
  const st = await cephJson(t, ["status"], Status);
  const want = hosts.reduce((n, h) => n + osdSpecs(s, h).length, 0);
  const { num_osds, num_up_osds, num_in_osds } = st.osdmap;
  if (num_up_osds < want || num_in_osds < want)
    return `${num_up_osds} up, ${num_in_osds} in of ${want} OSDs (${num_osds} known)`;
  const unclean = st.pgmap.pgs_by_state.filter((p) => p.state_name !== "active+clean");
  if (st.pgmap.num_pgs === 0 || unclean.length > 0)
    return `PGs not active+clean: ${unclean.map((p) => `${p.count} ${p.state_name}`).join(", ") || "none yet"}`;
  return true;
}

export const cleanStep: StepSpec = {
  id: "clean",
  title: "Every OSD up and in, every PG active+clean",
  on: "serial",
  after: ["pools"],
  timeoutMs: 600_000,
  async check(ctx) {
    return (
      (await converged(ctx.transport, cephSettings(ctx.topology), ctx.topology.roles.storage).catch(
        (e: Error) => e.message,
      )) === true
    );
  },
  async apply(ctx) {
    await waitUntil(
      ctx,
      "get every Ceph PG active+clean",
      () => converged(ctx.transport, cephSettings(ctx.topology), ctx.topology.roles.storage),
      { timeoutMs: 480_000, intervalMs: 2000 },
    );
  },
};
