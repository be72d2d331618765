/**
 * @module
 * A changed ceph.conf reaches the daemons by a restart, and restarting a storage cluster carelessly
 * is an outage: monitors one at a time, each back in the quorum before the next; managers; then a
 * host's OSDs with noout (no re-replication for a planned minute), only when Ceph says stopping
 * them leaves every PG at or above min_size, and every PG active+clean before the next host.
 *
 * Which daemons need it is read from the host, not remembered: a daemon that started before
 * ceph.conf was last written runs the old settings. A deploy that wrote nothing restarts nothing,
 * and a restart that died half-way is finished by the next deploy.
 */
import { z } from "zod";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { ceph, cephArgv, cephJson } from "./ceph-tool.ts";
import { allClean, fullQuorum, waitFor } from "./converge.ts";
import { refuseReason } from "./maintenance.ts";
import { MgrDump, OsdDump, QuorumStatus } from "./schemas.ts";

export const CEPH_CONF = "/etc/ceph/ceph.conf";

export type DaemonKind = "mon" | "mgr" | "osd";

export interface RunningDaemon {
  kind: DaemonKind;
  id: string;
  /** Epoch seconds. */
  startedS: number;
}

export interface DaemonAges {
  confWrittenS: number;
  daemons: RunningDaemon[];
}

/**
 * Every running ceph-mon/mgr/osd with its id (`--id X` under systemd, `-i X` by hand) and start
 * time, and when ceph.conf was written: one round trip.
 */
const SCRIPT = `conf=$(stat -c %Y ${CEPH_CONF}) || exit 3
now=$(date +%s)
echo "conf $conf"
for p in $(pgrep -x 'ceph-(mon|mgr|osd)'); do
  age=$(ps -o etimes= -p "$p") || continue
  echo "daemon $(( now - age )) $(tr '\\0' ' ' < /proc/$p/cmdline)"
done`;

const Line = z.union([
  z.tuple([z.literal("conf"), z.coerce.number().int()]),
  z.tuple([z.literal("daemon"), z.coerce.number().int(), z.string()]),
]);

export function parseDaemonAges(host: string, text: string): DaemonAges {
  let confWrittenS: number | undefined;
  const daemons: RunningDaemon[] = [];
  for (const raw of text.split("\n").filter((l) => l.trim())) {
    const [tag, n, ...rest] = raw.trim().split(/\s+/);
    const parsed = Line.safeParse(tag === "conf" ? [tag, n] : [tag, n, rest.join(" ")]);
    if (!parsed.success)
      throw new HastackError(
        "E_CEPH_RESTART",
        `Cannot read the Ceph daemons of ${host}: unexpected line '${raw}'`,
      );
    const line = parsed.data;
    if (line[0] === "conf") {
      confWrittenS = line[1];
      continue;
    }
    const argv = line[2].split(" ");
    const kind = /ceph-(mon|mgr|osd)$/.exec(argv[0] ?? "")?.[1] as DaemonKind | undefined;
    const at = argv.findIndex((a) => a === "--id" || a === "-i");
    const id = at >= 0 ? argv[at + 1] : undefined;
    if (kind && id) daemons.push({ kind, id, startedS: line[1] });
  }
  if (confWrittenS === undefined)
    throw new HastackError("E_CEPH_RESTART", `Cannot read the Ceph daemons of ${host}: no ${CEPH_CONF}`);
  return { confWrittenS, daemons };
}

export async function daemonAges(t: Transport): Promise<DaemonAges> {
  const r = await t.exec(["bash", "-c", SCRIPT]);
  if (r.code !== 0)
    throw new HastackError(
      "E_CEPH_RESTART",
      `Cannot read the Ceph daemons of ${t.name}: exit code ${r.code}: ${r.stderr.trim()}`,
    );
  return parseDaemonAges(t.name, r.stdout);
}

/** Daemons that started before ceph.conf was last written: they run the old settings. */
export function staleDaemons(ages: DaemonAges): RunningDaemon[] {
  const rank: Record<DaemonKind, number> = { mon: 0, mgr: 1, osd: 2 };
  return ages.daemons
    .filter((d) => d.startedS < ages.confWrittenS)
    .sort((a, b) => rank[a.kind] - rank[b.kind] || a.id.localeCompare(b.id, "en", { numeric: true }));
}

export function unitOf(d: Pick<RunningDaemon, "kind" | "id">): string {
  return `ceph-${d.kind}@${d.id}`;
}

export interface RestartIo {
  /** A host with the admin keyring whose `ceph` reaches the cluster (another monitor host if there is one). */
  admin: Transport;
  /** The host whose daemons restart. */
  host: Transport;
  /** How a unit restarts: systemctl on hosts; tests without systemd restart the process by hand. */
  restart(unit: string): Promise<void>;
  log(line: string): void;
  signal?: AbortSignal;
}

/** Ceph's own answer to "would the quorum survive this monitor stopping?" (`mon ok-to-stop`). */
async function monRefusal(admin: Transport, id: string): Promise<string | undefined> {
  const whole = await fullQuorum(admin);
  if (whole !== true) return `the quorum is not whole (${whole}): restarting ceph-mon.${id} could lose it`;
  const r = await admin.exec(cephArgv(["mon", "ok-to-stop", id]));
  return r.code === 0 ? undefined : `ceph mon ok-to-stop ${id}: ${`${r.stderr}${r.stdout}`.trim()}`;
}

/** A restarted monitor calls an election when it comes back: a newer epoch with every monitor in. */
async function monBack(admin: Transport, epochBefore: number): Promise<true | string> {
  const q = await cephJson(admin, ["quorum_status"], QuorumStatus, { connectTimeoutS: 5 });
  if (q.election_epoch <= epochBefore) return `no election since epoch ${epochBefore} yet`;
  return fullQuorum(admin);
}

/** A restarted manager registers again, which changes the manager map. */
async function mgrBack(admin: Transport, id: string, epochBefore: number): Promise<true | string> {
  const m = await cephJson(admin, ["mgr", "dump"], MgrDump, { connectTimeoutS: 5 });
  const known = [m.available ? m.active_name : "", ...m.standbys.map((s) => s.name)];
  if (m.epoch <= epochBefore) return `the manager map is still at epoch ${epochBefore}`;
  return known.includes(id) ? true : `mgr.${id} is neither active nor standby yet`;
}

/** Restarted OSDs come up in a newer OSD map epoch than they were up from before. */
async function osdsBack(admin: Transport, upFrom: ReadonlyMap<number, number>): Promise<true | string> {
  const dump = await cephJson(admin, ["osd", "dump"], OsdDump, { connectTimeoutS: 5 });
  const waiting = [...upFrom].filter(([id, before]) => {
    const o = dump.osds.find((x) => x.osd === id);
    return o?.up !== 1 || o.up_from <= before;
  });
  return waiting.length === 0 ? true : `${waiting.map(([id]) => `osd.${id}`).join(", ")} not up again yet`;
}

async function restartOsds(
  io: RestartIo,
  ids: number[],
  done: string[],
  wait: (what: string, probe: () => Promise<true | string>, timeoutMs: number) => Promise<void>,
): Promise<void> {
  const dump = await cephJson(io.admin, ["osd", "dump"], OsdDump);
  const upFrom = new Map(ids.map((id) => [id, dump.osds.find((o) => o.osd === id)?.up_from ?? 0]));
  const names = ids.map((i) => `osd.${i}`);
  // noout for these OSDs only: their minute down is planned, re-replicating their data is not.
  await ceph(io.admin, `set noout on ${names.join(", ")}`, ["osd", "add-noout", ...names]);
  try {
    for (const id of ids) {
      const unit = unitOf({ kind: "osd", id: String(id) });
      await io.restart(unit);
      done.push(unit);
    }
    await wait(`see ${names.join(", ")} up again`, () => osdsBack(io.admin, upFrom), 300_000);
  } finally {
    await ceph(io.admin, `clear noout on ${names.join(", ")}`, ["osd", "rm-noout", ...names]);
  }
  await wait("get every PG active+clean again", () => allClean(io.admin), 600_000);
  io.log(`restarted ${names.join(", ")} with noout; every PG is active+clean`);
}

/**
 * Restarts `daemons` of one host in the safe order, refusing (E_CEPH_RESTART) before a daemon
 * whose stop Ceph says would lose the quorum or take PGs below min_size. Returns the units
 * restarted.
 */
export async function restartDaemons(io: RestartIo, daemons: readonly RunningDaemon[]): Promise<string[]> {
  const done: string[] = [];
  const host = io.host.name;
  const refuse = (what: string, why: string) =>
    new HastackError("E_CEPH_RESTART", `Cannot restart ${what} on ${host} for the new ${CEPH_CONF}: ${why}`, {
      hint: `${done.length ? `already restarted: ${done.join(", ")}; ` : ""}nothing else was; once \`hastack status --only ceph\` is green, deploy again`,
    });
  const wait = (what: string, probe: () => Promise<true | string>, timeoutMs: number) =>
    waitFor(io, "E_CEPH_RESTART", what, probe, timeoutMs);
  for (const mon of daemons.filter((d) => d.kind === "mon")) {
    const why = await monRefusal(io.admin, mon.id);
    if (why) throw refuse(unitOf(mon), why);
    const before = await cephJson(io.admin, ["quorum_status"], QuorumStatus);
    await io.restart(unitOf(mon));
    done.push(unitOf(mon));
    await wait(
      `get ceph-mon.${mon.id} back into the quorum`,
      () => monBack(io.admin, before.election_epoch),
      180_000,
    );
    io.log(`restarted ${unitOf(mon)}; every monitor is in the quorum again`);
  }
  for (const mgr of daemons.filter((d) => d.kind === "mgr")) {
    const before = await cephJson(io.admin, ["mgr", "dump"], MgrDump);
    await io.restart(unitOf(mgr));
    done.push(unitOf(mgr));
    await wait(`see mgr.${mgr.id} registered again`, () => mgrBack(io.admin, mgr.id, before.epoch), 120_000);
    io.log(`restarted ${unitOf(mgr)}`);
  }
  const osds = daemons.filter((d) => d.kind === "osd").map((d) => Number(d.id));
  if (osds.length === 0) return done;
  // A host's OSDs go together when Ceph says they may (failure domain host); with failure domain
  // osd a host may hold several copies of a PG, and then they go one at a time.
  const together = (await refuseReason(io.admin, osds)) === undefined;
  for (const ids of together ? [osds] : osds.map((id) => [id])) {
    const why = await refuseReason(io.admin, ids);
    if (why) throw refuse(ids.map((id) => unitOf({ kind: "osd", id: String(id) })).join(", "), why);
    await restartOsds(io, ids, done, wait);
  }
  return done;
}
