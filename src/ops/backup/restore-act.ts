/**
 * @module
 * `hastack backup restore`, second half: the plan carried out. The backup is fetched, checked
 * against its manifest's sha256, unpacked and prepared on the bootstrap controller before any
 * MariaDB is stopped. Then every controller's MariaDB stops and its datadir goes aside (kept);
 * the bootstrap controller gets the prepared backup and a grastate.dat at its position and
 * bootstraps the new cluster the way `hastack recover` does (act-galera.ts: galera_new_cluster,
 * then each other node started and waited for until Synced: they join by SST, having no data).
 * Last, the backup's canary row is read on every controller. Each step is recorded on its host
 * before it acts (restore-state.ts): a failure says what it left, and a re-run resumes.
 */
import { sql } from "../../hostkit/sql.ts";
import { HastackError } from "../../util/errors.ts";
import { actGalera, stopMariadb, synced } from "../recovery/act-galera.ts";
import type { RecoverJournal } from "../recovery/act-journal.ts";
import { type ActContext, type ActTiming, DEFAULT_TIMING } from "../recovery/act-step.ts";
import { collectGaleraNode } from "../recovery/collect-galera.ts";
import { CANARY_TABLE, canaryReadSql } from "./content.ts";
import type { PlannedRestore } from "./restore.ts";
import { journalled, type On, prepare, removeSpool } from "./restore-prepare.ts";
import { type GaleraInfo, moveBackScript, restoreSpool, setAsideScript } from "./restore-scripts.ts";
import { DATADIR, phaseReached, type RestorePhase, writeRestoreState } from "./restore-state.ts";
import { type BackupContext, script } from "./site.ts";

export interface RestoreActOptions {
  journal: RecoverJournal;
  timing?: ActTiming;
}

export interface RestoreResult {
  id: string;
  bootstrap: string;
  joined: string[];
  /** Where each controller's old datadir is. */
  aside: Record<string, string>;
  /** The backup's own Galera position (absent when a resumed run found it moved back already). */
  position?: GaleraInfo;
  /** Controllers the canary row was read on, with its token. */
  canary: string[];
  durationMs: number;
}

export async function carryOutRestore(
  ctx: BackupContext,
  planned: PlannedRestore,
  opts: RestoreActOptions,
): Promise<RestoreResult> {
  const started = performance.now();
  const { plan } = planned;
  const now = ctx.now ?? (() => new Date());
  const phase = new Map(Object.entries(plan.resumed));
  const at = (host: string, p: RestorePhase) => phaseReached(phase.get(host), p);
  const stopped = new Set<string>();
  const on = journalled(opts.journal, plan.id);
  const record = async (host: string, p: RestorePhase) => {
    const role = host === plan.bootstrap ? "bootstrap" : "join";
    const aside = plan.aside[host] ?? "";
    await on(host, `record phase ${p} in the restore state`, () =>
      writeRestoreState(ctx.transport(host), { id: plan.id, role, aside, phase: p }, now()),
    );
    phase.set(host, p);
  };

  let position: GaleraInfo | undefined;
  if (!at(plan.bootstrap, "restored")) {
    const resuming = Object.keys(plan.resumed).length > 0;
    position = await prepare(ctx, planned, on).catch((error: unknown) => {
      throw withHint(
        error,
        resuming
          ? leftState(plan, phase, stopped)
          : "nothing was stopped or changed on the controllers; the spool was removed",
      );
    });
    ctx.print(`  ${plan.bootstrap}: backup prepared at seqno ${position.seqno} of history ${position.uuid}`);
  }
  const act: ActContext = {
    transport: ctx.transport,
    journal: opts.journal,
    timing: opts.timing ?? DEFAULT_TIMING,
  };
  try {
    for (const host of [...plan.join, plan.bootstrap])
      if (!at(host, "started")) {
        const answering = planned.hosts.find((h) => h.node.host === host)?.node.state !== undefined;
        await on(host, "stop mariadb", () => stopMariadb(act, host, answering));
        stopped.add(host);
      }
    ctx.print(`  MariaDB stopped on ${[...stopped].join(", ") || "no controller"}`);
    for (const host of [plan.bootstrap, ...plan.join]) {
      const done = at(host, host === plan.bootstrap ? "restored" : "started");
      if (done) continue;
      if (!at(host, "aside")) await record(host, "aside");
      await on(host, `move ${DATADIR} aside to ${plan.aside[host]}`, () =>
        script(ctx.transport(host), "set the datadir aside", setAsideScript(plan.aside[host] ?? ""), 600_000),
      );
    }
    if (!at(plan.bootstrap, "restored")) {
      const info = position;
      if (!info)
        throw new HastackError(
          "E_BACKUP_RESTORE",
          `Cannot restore backup ${plan.id} on ${plan.bootstrap}: move the backup back: it was not prepared in this run`,
        );
      const spool = restoreSpool(plan.id);
      await on(plan.bootstrap, "mariadb-backup --move-back, grastate.dat", () =>
        script(ctx.transport(plan.bootstrap), "move the backup back", moveBackScript(spool, info), 3_600_000),
      );
      await record(plan.bootstrap, "restored");
      await removeSpool(ctx, plan.bootstrap, plan.id);
    }
    if (!at(plan.bootstrap, "started")) {
      await bootstrap(act, plan.bootstrap, position, on);
      await record(plan.bootstrap, "started");
      ctx.print(`  ${plan.bootstrap}: bootstrapped the restored cluster`);
    } else {
      const seen = await synced(act, plan.bootstrap);
      if (!seen.done)
        throw new HastackError(
          "E_BACKUP_RESTORE",
          `Cannot restore backup ${plan.id} on ${plan.bootstrap}: it bootstrapped the restored cluster in the cut-short run but is not Primary and Synced now (${seen.seen})`,
          {
            hint: "bring that cluster up again with `hastack recover`, then run this restore again: it finishes the joins and the canary check",
          },
        );
    }
    for (const host of plan.join) {
      const how = at(host, "started") ? ((await synced(act, host)).done ? undefined : "restart") : "start";
      if (how === undefined) continue;
      await on(host, "join the restored cluster by SST", () =>
        actGalera(
          { kind: "join", primary: [plan.bootstrap], join: [{ host, how }], nodes: [], reasons: [] },
          { nodes: [], power: {} },
          act,
        ),
      );
      await record(host, "started");
      ctx.print(`  ${host}: joined and Synced`);
    }
    const canary = await readCanary(ctx, planned, act, on);
    for (const host of [plan.bootstrap, ...plan.join]) await record(host, "done");
    return {
      id: plan.id,
      bootstrap: plan.bootstrap,
      joined: plan.join,
      aside: plan.aside,
      ...(position ? { position } : {}),
      canary,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    throw withHint(error, leftState(plan, phase, stopped));
  } finally {
    if (!at(plan.bootstrap, "restored")) await removeSpool(ctx, plan.bootstrap, plan.id);
  }
}

async function bootstrap(
  act: ActContext,
  host: string,
  position: GaleraInfo | undefined,
  on: On,
): Promise<void> {
  const { node } = await on(host, "read the Galera state", () => collectGaleraNode(act.transport(host)));
  if (node.state === "unreachable")
    throw new HastackError("E_BACKUP_RESTORE", `Cannot restore on ${host}: it cannot be reached`);
  const at = position ?? node.grastate ?? { uuid: "", seqno: -1 };
  await on(host, "bootstrap the restored cluster (galera_new_cluster)", () =>
    actGalera(
      {
        kind: "bootstrap",
        from: host,
        position: { uuid: at.uuid, seqno: at.seqno },
        method: "new-cluster",
        join: [],
        nodes: [],
        reasons: [],
      },
      { nodes: [node], power: {} },
      act,
    ),
  );
}

/** The backup's canary row on every controller, with the manifest's token. */
async function readCanary(
  ctx: BackupContext,
  planned: PlannedRestore,
  act: ActContext,
  on: On,
): Promise<string[]> {
  const { plan, backup } = planned;
  const hosts = [plan.bootstrap, ...plan.join];
  for (const host of hosts)
    await on(host, `read the canary row from ${CANARY_TABLE}`, async () => {
      const seen = await synced(act, host);
      if (!seen.done)
        throw new HastackError(
          "E_BACKUP_RESTORE",
          `Cannot read the canary on ${host}: not Primary and Synced (${seen.seen})`,
        );
      const rows = await sql(ctx.transport(host), canaryReadSql(plan.id));
      const token = rows[0]?.[0];
      if (token !== backup.manifest.canary.token)
        throw new HastackError(
          "E_BACKUP_RESTORE",
          token === undefined
            ? `Cannot read the canary on ${host}: ${CANARY_TABLE} has no row with id ${plan.id}`
            : `Cannot read the canary on ${host}: ${CANARY_TABLE} id ${plan.id} has another token than the manifest's`,
        );
    });
  ctx.print(`  canary row of ${plan.id} found on ${hosts.join(", ")}`);
  return hosts;
}

/** What a failure after the first stop left, and how to go on. */
function leftState(
  plan: PlannedRestore["plan"],
  phase: ReadonlyMap<string, RestorePhase>,
  stopped: ReadonlySet<string>,
): string {
  const hosts = [plan.bootstrap, ...plan.join].map((h) => {
    const p = phase.get(h);
    if (p !== undefined) return `${h}: ${p}, old datadir at ${plan.aside[h]}`;
    return `${h}: ${stopped.has(h) ? "MariaDB stopped" : "untouched"}, datadir in place`;
  });
  return `state left (also in /var/lib/hastack/restore-state.json on each controller): ${hosts.join("; ")}. Nothing was deleted. Run \`hastack backup restore ${plan.id} --yes\` again to resume from there`;
}

/** The error with what the operator needs next; a hint of its own comes first. */
function withHint(error: unknown, hint: string): unknown {
  if (!(error instanceof HastackError)) return error;
  const both = error.hint && !error.hint.includes(hint) ? `${error.hint}. ${hint}` : hint;
  return new HastackError(error.code, error.message, { cause: error.cause ?? error, hint: both });
}
