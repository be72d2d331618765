/**
 * @module
 * What `hastack backup restore` will do, decided from facts before anything changes: which
 * backup, which controller gets it and bootstraps the new cluster from it, which join by SST,
 * where each old datadir goes, which writes are lost, and, when a restore was cut short, what it
 * already did (a re-run resumes). Refusals come here too, so that they happen before any stop.
 * Pure: the facts come in.
 */
import { HastackError } from "../../util/errors.ts";
import { type NodeFacts, unfitBecause } from "./choose-host.ts";
import type { Manifest } from "./manifest.ts";
import type { DatadirFacts } from "./restore-scripts.ts";
import {
  asidePath,
  DATADIR,
  type RestorePhase,
  type RestoreState,
  reached,
  unfinished,
} from "./restore-state.ts";
import type { StoredBackup } from "./store.ts";

export interface HostFacts {
  node: NodeFacts;
  /** Absent: no restore ever ran there, or the host is unreachable. */
  state?: RestoreState;
  /** Absent when the host is unreachable. */
  datadir?: DatadirFacts;
}

export interface RestorePlan {
  id: string;
  site: string;
  takenAt: string;
  source: string;
  store: string;
  galera: Manifest["galera"];
  /** Gets the backup, moves it into its datadir and bootstraps the new cluster. */
  bootstrap: string;
  /** Join the new cluster by SST, one at a time, in this order. */
  join: string[];
  /** Where each controller's old datadir goes (or went): kept, never deleted. */
  aside: Record<string, string>;
  /** Controllers a cut-short restore of this backup already got somewhere with, and how far. */
  resumed: Record<string, RestorePhase>;
  /** Each controller as it is now. */
  now: { host: string; state: string }[];
  lost: string;
  steps: string[];
}

export interface PlanInput {
  site: string;
  backup: StoredBackup & { manifest: Manifest };
  storeDescription: string;
  /** Every controller, in inventory order. */
  hosts: readonly HostFacts[];
}

/** An unfinished restore's backup id on any controller (the one a plain re-run resumes). */
export function unfinishedId(hosts: readonly HostFacts[]): string | undefined {
  return hosts.map((h) => h.state).find(unfinished)?.id;
}

/**
 * The controller that gets the backup: the one a cut-short restore of it bootstrapped (or was
 * about to); else, for backups kept on a controller, that controller (the parts are files there
 * already); else the first controller, HAProxy's SQL writer.
 */
export function chooseBootstrap(input: PlanInput): string {
  const resumed = input.hosts.find((h) => h.state?.id === input.backup.id && h.state.role === "bootstrap");
  if (resumed) return resumed.node.host;
  const m = input.backup.manifest;
  if (m.store.kind === "controller" && input.hosts.some((h) => h.node.host === input.backup.where))
    return input.backup.where;
  const first = input.hosts[0];
  if (!first)
    throw new HastackError("E_BACKUP_RESTORE_REFUSED", "Cannot restore a backup: the site has no controller");
  return first.node.host;
}

function refuse(id: string, why: string, hint: string): never {
  throw new HastackError("E_BACKUP_RESTORE_REFUSED", `Cannot restore backup ${id}: ${why}`, { hint });
}

/** Every controller must answer: each one's Galera node is stopped and rebuilt. */
export function checkReachable(id: string | undefined, nodes: readonly NodeFacts[]): void {
  const down = nodes.filter((n) => n.unreachable);
  if (down.length > 0)
    throw new HastackError(
      "E_BACKUP_RESTORE_REFUSED",
      `Cannot restore ${id ? `backup ${id}` : "a backup"}: ${down.map((n) => `${n.host} cannot be reached (${n.why ?? "no answer"})`).join("; ")}: a restore stops and rebuilds the Galera node of every controller`,
      {
        hint: "bring it back (or power it on) and run the restore again; a controller left out would keep its old data",
      },
    );
}

/** Refusals, in the order an operator fixes them; nothing has been changed when one is thrown. */
function checkStartable(input: PlanInput): void {
  const id = input.backup.id;
  checkReachable(
    id,
    input.hosts.map((h) => h.node),
  );
  const other = input.hosts.filter((h) => unfinished(h.state) && h.state?.id !== id);
  if (other.length > 0) {
    const otherId = other[0]?.state?.id ?? "";
    const where = other.map(
      (h) => `${h.node.host} (${h.state?.role}, ${h.state?.phase}, old datadir at ${h.state?.aside})`,
    );
    refuse(
      id,
      `the restore of backup ${otherId} is unfinished on ${where.join(", ")}`,
      `finish it first: hastack backup restore ${otherId} --yes; or go back to the old data by hand on each of those controllers: systemctl stop mariadb; mv ${DATADIR} ${DATADIR}.failed-restore; mv <old datadir> ${DATADIR}; rm /var/lib/hastack/restore-state.json; then bootstrap as after a power cut (hastack recover)`,
    );
  }
  const mounted = input.hosts.filter((h) => h.datadir?.mountpoint && !reached(h.state, "aside"));
  if (mounted.length > 0)
    refuse(
      id,
      `${DATADIR} is a mount point on ${mounted.map((h) => h.node.host).join(", ")}: the restore keeps the old datadir by renaming it, which a mount point cannot be`,
      `move its contents aside on that disk by hand (the datadir must be empty), or restore by hand (docs/backup.md)`,
    );
}

function describeNow(n: NodeFacts): string {
  const why = unfitBecause(n);
  const s = n.state;
  if (!s) return why ?? "MariaDB does not answer";
  return `${why ?? "Synced"}, seqno ${s.WSREP_LAST_COMMITTED} of history ${s.WSREP_LOCAL_STATE_UUID.slice(0, 8)}`;
}

function lostSentence(m: Manifest, hosts: readonly HostFacts[]): string {
  const same = hosts.flatMap((h) =>
    h.node.state?.WSREP_LOCAL_STATE_UUID === m.galera.uuid ? [Number(h.node.state.WSREP_LAST_COMMITTED)] : [],
  );
  const now = same.length > 0 ? Math.max(...same) : undefined;
  const count =
    now === undefined
      ? ""
      : `; the cluster is at seqno ${now}, about ${Math.max(0, now - m.galera.seqnoAfter)} transaction(s) later`;
  return `every write after the backup (${m.finishedAt}) is lost: the backup's point is between seqno ${m.galera.seqnoBefore} and ${m.galera.seqnoAfter} of history ${m.galera.uuid.slice(0, 8)}${count}`;
}

export function restorePlan(input: PlanInput): RestorePlan {
  checkStartable(input);
  const m = input.backup.manifest;
  const id = input.backup.id;
  const bootstrap = chooseBootstrap(input);
  const join = input.hosts.map((h) => h.node.host).filter((h) => h !== bootstrap);
  const byHost = new Map(input.hosts.map((h) => [h.node.host, h]));
  // A run cut short while it recorded "done" host by host: those hosts count as resumed too.
  const resuming = input.hosts.some((h) => unfinished(h.state) && h.state.id === id);
  const mine = (host: string) => {
    const s = byHost.get(host)?.state;
    return s?.id === id && (s.phase !== "done" || resuming) ? s : undefined;
  };
  const aside: Record<string, string> = {};
  const resumed: Record<string, RestorePhase> = {};
  for (const h of input.hosts) {
    const host = h.node.host;
    const s = mine(host);
    aside[host] = s?.aside ?? asidePath(id, h.datadir?.asides ?? []);
    if (s) resumed[host] = s.phase;
  }
  const at = (host: string, phase: RestorePhase) => reached(mine(host), phase);
  const steps: string[] = [];
  const order = [...join, bootstrap];
  if (!at(bootstrap, "restored"))
    steps.push(
      `${bootstrap}: fetch the ${m.parts.length} part(s) from ${input.storeDescription}, check their sha256, unpack and prepare them (mariadb-backup --prepare); nothing is stopped before this passed`,
    );
  const stop = order.filter((h) => !at(h, "started"));
  if (stop.length > 0) steps.push(`${stop.join(", ")}: stop mariadb`);
  for (const host of [bootstrap, ...join]) {
    if (!at(host, "aside"))
      steps.push(`${host}: move ${DATADIR} aside to ${aside[host]} (kept), an empty ${DATADIR} in its place`);
    else if (!at(host, host === bootstrap ? "restored" : "started"))
      steps.push(
        `${host}: empty the ${DATADIR} the cut-short restore left (the old datadir stays at ${aside[host]})`,
      );
  }
  if (!at(bootstrap, "restored"))
    steps.push(
      `${bootstrap}: mariadb-backup --move-back into ${DATADIR}, grastate.dat at the backup's position (safe_to_bootstrap: 1)`,
    );
  if (!at(bootstrap, "started")) steps.push(`${bootstrap}: galera_new_cluster, until Primary and Synced`);
  const joining = join.filter((h) => !at(h, "started"));
  if (joining.length > 0)
    steps.push(
      `${joining.join(", ")}: start mariadb, one at a time: each joins by SST from the new cluster, until Synced`,
    );
  steps.push(`every controller: the canary row of ${id} read back with the manifest's token`);
  return {
    id,
    site: input.site,
    takenAt: m.finishedAt,
    source: m.host,
    store: input.storeDescription,
    galera: m.galera,
    bootstrap,
    join,
    aside,
    resumed,
    now: input.hosts.map((h) => ({ host: h.node.host, state: describeNow(h.node) })),
    lost: lostSentence(m, input.hosts),
    steps,
  };
}

export function restorePlanText(p: RestorePlan): string {
  const resumed = Object.entries(p.resumed);
  return [
    `restore backup ${p.id} into the Galera cluster of site ${p.site}`,
    `  backup     taken ${p.takenAt} on ${p.source}, seqno ${p.galera.seqnoBefore}-${p.galera.seqnoAfter} of history ${p.galera.uuid}, in ${p.store}`,
    `  bootstrap  ${p.bootstrap} gets the backup and bootstraps the new cluster`,
    `  join       ${p.join.length > 0 ? `${p.join.join(", ")} join by SST (their old datadirs set aside)` : "none"}`,
    ...p.now.map((n, i) => `  ${i === 0 ? "now       " : "          "} ${n.host}: ${n.state}`),
    ...(resumed.length > 0
      ? [
          `  resuming   a cut-short restore of this backup: ${resumed.map(([h, ph]) => `${h} ${ph}`).join(", ")}`,
        ]
      : []),
    `  LOST       ${p.lost}`,
    "  steps",
    ...p.steps.map((s, i) => `    ${i + 1}. ${s}`),
    "",
  ].join("\n");
}
