/**
 * @module
 * `hastack backup restore`: the facts, the plan and the go-ahead. Every controller's Galera state
 * (as `backup run` reads it), its restore state (a cut-short restore to resume) and its datadir's
 * neighbours; the stored backups; then the plan (restore-plan.ts), which is what `--dry-run`
 * prints and what the operator confirms with `--yes` before restore-act.ts carries it out.
 */
import { HastackError } from "../../util/errors.ts";
import type { RecoverJournal } from "../recovery/act-journal.ts";
import type { ActTiming } from "../recovery/act-step.ts";
import type { NodeFacts } from "./choose-host.ts";
import type { Manifest } from "./manifest.ts";
import { carryOutRestore, type RestoreResult } from "./restore-act.ts";
import {
  checkReachable,
  type HostFacts,
  type RestorePlan,
  restorePlan,
  unfinishedId,
} from "./restore-plan.ts";
import { DATADIR_FACTS_SCRIPT, parseDatadirFacts } from "./restore-scripts.ts";
import { RESTORE_STATE_PATH, readRestoreState, unfinished } from "./restore-state.ts";
import { type BackupContext, controllerFacts, script, siteStore, step } from "./site.ts";
import { type BackupStore, pickBackup, type StoredBackup } from "./store.ts";

export interface PlannedRestore {
  plan: RestorePlan;
  backup: StoredBackup & { manifest: Manifest };
  /** The store as seen from the bootstrap controller (where Ceph's parts are fetched to). */
  store: BackupStore;
  hosts: HostFacts[];
}

async function hostFacts(ctx: BackupContext, node: NodeFacts): Promise<HostFacts> {
  if (node.unreachable) return { node };
  const t = ctx.transport(node.host);
  const on = <T>(what: string, fn: () => Promise<T>) =>
    step("E_BACKUP_RESTORE", "plan a restore", node.host, what, fn);
  const state = await on(`read ${RESTORE_STATE_PATH}`, () => readRestoreState(t));
  const datadir = await on("look at the datadir", async () =>
    parseDatadirFacts(
      node.host,
      (await script(t, "look at the datadir", DATADIR_FACTS_SCRIPT, 30_000)).stdout,
    ),
  );
  return { node, datadir, ...(state ? { state } : {}) };
}

/**
 * The plan for backup `id`, or for the newest complete one; with no id and a cut-short restore
 * on the controllers, the plan resumes that one (its backup, its bootstrap node, its set-aside
 * datadirs).
 */
export async function planRestore(ctx: BackupContext, id?: string): Promise<PlannedRestore> {
  const nodes = await controllerFacts(ctx);
  const hosts = await Promise.all(nodes.map((n) => hostFacts(ctx, n)));
  const wanted = id ?? unfinishedId(hosts);
  // A backup kept on a controller is listed only from the reachable ones: an unreachable
  // controller is refused before the list could say "not found" for a backup it holds.
  checkReachable(wanted, nodes);
  const resumedBootstrap = hosts.find((h) => unfinished(h.state) && h.state.role === "bootstrap")?.node.host;
  const via = resumedBootstrap ?? nodes[0]?.host;
  if (via === undefined)
    throw new HastackError("E_BACKUP_RESTORE_REFUSED", "Cannot restore a backup: the site has no controller");
  const listing = siteStore(ctx, nodes, via);
  const backup = pickBackup(await listing.list(), wanted, "restore");
  const plan = restorePlan({
    site: ctx.topology.cluster,
    backup,
    storeDescription: listing.description,
    hosts,
  });
  const store = plan.bootstrap === via ? listing : siteStore(ctx, nodes, plan.bootstrap);
  return { plan, backup, store, hosts };
}

export interface RestoreOptions {
  id?: string;
  /** Only the plan: nothing changes. */
  dryRun?: boolean;
  /** The operator's go-ahead: without it the plan is shown and E_BACKUP_RESTORE_CONFIRM thrown. */
  yes?: boolean;
  /** Gets the plan before anything is done (printed, or kept for --json). */
  show: (plan: RestorePlan) => void;
  journal: RecoverJournal;
  timing?: ActTiming;
}

/** The whole command: plan, show it, then (with --yes, without --dry-run) carry it out. */
export async function backupRestore(
  ctx: BackupContext,
  o: RestoreOptions,
): Promise<RestoreResult | undefined> {
  const planned = await planRestore(ctx, o.id);
  o.show(planned.plan);
  if (o.dryRun) return undefined;
  if (!o.yes)
    throw new HastackError(
      "E_BACKUP_RESTORE_CONFIRM",
      `Cannot restore backup ${planned.plan.id}: --yes was not given, and every write after ${planned.plan.takenAt} would be lost`,
      { hint: "read the plan above, then run the same command with --yes to carry it out" },
    );
  return carryOutRestore(ctx, planned, { journal: o.journal, ...(o.timing ? { timing: o.timing } : {}) });
}
