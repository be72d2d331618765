/**
 * @module
 * `hastack ceph replace-osd HOST DEVICE`: the book's disk replacement (ch. 14.2.6) in the order
 * upstream corrected it (errata 11-12): drain first while the OSD still serves as a source, so
 * redundancy never drops; then stop it and `destroy` it, which keeps its id and CRUSH place, so
 * the new disk takes them over and data moves once (purge would change the CRUSH weights and
 * move data twice: off the host, then back); zap, create the new OSD under the same id, start
 * it, and wait for backfill.
 *
 * Draining needs somewhere to put the copies. When the failure domains are all used (the lab:
 * three hosts, one OSD each, three copies) the PGs could never be active+clean without it, so the
 * command refuses and says so; `--in-place` then replaces it with its PGs degraded but at or
 * above min_size (Ceph's ok-to-stop) until backfill ends, with noout so nothing else moves.
 */
import { z } from "zod";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { ceph, cephArgv, cephJson } from "./ceph-tool.ts";
import { allClean, osdsAre, waitFor } from "./converge.ts";
import { createOsd, findOsd } from "./daemons.ts";
import { refuseReason } from "./maintenance.ts";
import { pgStateHealth } from "./pg-states.ts";
import { OsdDf, OsdDump, OsdTree, Status } from "./schemas.ts";
import type { CephSettings, OsdSpec } from "./settings.ts";
import { osdsByHost } from "./verdicts.ts";

export interface ReplaceIo {
  /** A monitor host's transport (admin keyring). */
  admin: Transport;
  /** The storage host whose disk is replaced. */
  host: Transport;
  failureDomain: CephSettings["failure_domain"];
  /** systemctl on hosts; tests without systemd run the daemon by hand. */
  startOsd(id: number): Promise<void>;
  stopOsd(id: number): Promise<void>;
  log(line: string): void;
  signal?: AbortSignal;
  /** For the drain and for the backfill each. @default 6 h */
  timeoutMs?: number;
}

export interface ReplaceOptions {
  /** The OSD to replace when its disk is dead and nothing on DEVICE names it any more. */
  osd?: number;
  /** Replace without draining: PGs stay degraded (at or above min_size) until backfill ends. */
  inPlace?: boolean;
  /** Stop once the OSD is destroyed, for a physical disk swap; the same command then finishes. */
  pauseForSwap?: boolean;
}

export interface ReplaceReport {
  host: string;
  device: string;
  osd: number;
  /** resumed: the OSD was already destroyed (a run paused for a disk swap). */
  mode: "drain" | "in-place" | "resumed";
  oldUuid: string;
  newUuid?: string;
  drainMs: number;
  backfillMs: number;
  paused: boolean;
}

const SafeToDestroy = z.object({ safe_to_destroy: z.array(z.number()).default([]) });

function refusal(id: number | string, host: string, why: string, hint?: string): HastackError {
  return new HastackError(
    "E_CEPH_REPLACE",
    `Cannot replace osd.${id} on ${host}: ${why}`,
    hint ? { hint } : {},
  );
}

/** Why draining `id` could never end in active+clean, or undefined when the others can take its copies. */
export async function drainRefusal(
  admin: Transport,
  id: number,
  domain: CephSettings["failure_domain"],
): Promise<string | undefined> {
  const tree = await cephJson(admin, ["osd", "tree"], OsdTree);
  const dump = await cephJson(admin, ["osd", "dump"], OsdDump);
  const size = Math.max(0, ...dump.pools.map((p) => p.size));
  const others = (h: { osds: { name: string; up: boolean; in: boolean }[] }) =>
    h.osds.filter((o) => o.up && o.in && o.name !== `osd.${id}`);
  const hosts = osdsByHost(tree);
  const domains =
    domain === "host" ? hosts.filter((h) => others(h).length > 0).length : hosts.flatMap(others).length;
  if (domains < size)
    return `draining it needs ${size} other ${domain === "host" ? "hosts with OSDs" : "OSDs"} to hold every copy, and there are ${domains}: its PGs could never be active+clean again`;
  const df = await cephJson(admin, ["osd", "df"], OsdDf);
  const self = df.nodes.find((n) => n.id === id);
  const room = df.nodes
    .filter((n) => n.id !== id && n.reweight > 0 && n.status !== "down")
    .reduce((sum, n) => sum + Math.max(0, n.kb * dump.backfillfull_ratio - n.kb_used), 0);
  if (self && self.kb_used > room)
    return `its ${(self.kb_used / 1024 ** 2).toFixed(1)} GiB do not fit on the other OSDs below the backfillfull ratio (${(room / 1024 ** 2).toFixed(1)} GiB of room)`;
  return undefined;
}

async function safeToDestroy(admin: Transport, id: number): Promise<true | string> {
  const r = await admin.exec(
    cephArgv(["osd", "safe-to-destroy", String(id), "-f", "json"], { connectTimeoutS: 5 }),
  );
  let answer: unknown;
  try {
    answer = JSON.parse(r.stdout);
  } catch {
    return `ceph osd safe-to-destroy ${id}: ${r.stderr.trim() || "no answer"}`;
  }
  const parsed = SafeToDestroy.safeParse(answer);
  return parsed.success && parsed.data.safe_to_destroy.includes(id) ? true : `osd.${id} still holds PGs`;
}

/** PGs that cannot serve I/O now: a dead OSD whose data no other copy holds must not be destroyed. */
async function inactivePgs(admin: Transport): Promise<string | undefined> {
  const st = await cephJson(admin, ["status"], Status);
  const bad = st.pgmap.pgs_by_state.filter((p) => pgStateHealth(p.state_name) === "down");
  return bad.length ? bad.map((p) => `${p.count} ${p.state_name}`).join(", ") : undefined;
}

/** Wipes what the old OSD left on the host: its data directory, and the file or the device's LVM. */
async function zap(io: ReplaceIo, spec: OsdSpec, id: number, oldUuid: string): Promise<void> {
  const t = io.host;
  const dir = `/var/lib/ceph/osd/ceph-${id}`;
  if (spec.kind === "file") {
    const r = await t.exec(["rm", "-rf", dir, spec.path]);
    if (r.code !== 0) throw refusal(id, t.name, `cannot remove ${dir} and ${spec.path}: ${r.stderr.trim()}`);
    return;
  }
  if ((await t.exec(["test", "-b", spec.path])).code !== 0)
    throw refusal(
      id,
      t.name,
      `${spec.path} is not a block device`,
      "put the new disk in, then run the same command again",
    );
  // ceph-volume's activation unit and tmpfs mount of the old OSD; absent after a dead disk's reboot.
  await t.exec(["systemctl", "disable", `ceph-volume@lvm-${id}-${oldUuid}`]);
  await t.exec(["umount", dir]);
  await t.exec(["rm", "-rf", dir]);
  const r = await t.exec(["ceph-volume", "lvm", "zap", "--destroy", spec.path], { timeoutMs: 300_000 });
  if (r.code !== 0)
    throw refusal(
      id,
      t.name,
      `ceph-volume lvm zap ${spec.path}: exit code ${r.code}: ${r.stderr.trim().split("\n").pop()}`,
    );
}

export async function replaceOsd(
  io: ReplaceIo,
  spec: OsdSpec,
  opts: ReplaceOptions = {},
): Promise<ReplaceReport> {
  const host = io.host.name;
  const timeoutMs = io.timeoutMs ?? 6 * 3600_000;
  const found = opts.osd ?? (await findOsd(io.host, spec));
  if (found === undefined)
    throw refusal(
      "?",
      host,
      `no OSD is on ${spec.path}`,
      "if its disk is dead, name the OSD: --osd N (ceph osd tree)",
    );
  const id = found;
  const tree = await cephJson(io.admin, ["osd", "tree"], OsdTree);
  if (!osdsByHost(tree).some((h) => h.host === host && h.osds.some((o) => o.name === `osd.${id}`)))
    throw refusal(id, host, `osd.${id} is not under ${host} in the CRUSH map (ceph osd tree)`);
  const entry = (await cephJson(io.admin, ["osd", "dump"], OsdDump)).osds.find((o) => o.osd === id);
  if (!entry) throw refusal(id, host, `osd.${id} is not in the OSD map`);
  const report: ReplaceReport = {
    host,
    device: spec.path,
    osd: id,
    mode: "drain",
    oldUuid: entry.uuid,
    drainMs: 0,
    backfillMs: 0,
    paused: false,
  };
  const wait = (what: string, probe: () => Promise<true | string>, ms = timeoutMs) =>
    waitFor(io, "E_CEPH_REPLACE", what, probe, ms, 5000);
  const stop = async () => {
    await io.stopOsd(id);
    await wait(`see osd.${id} down`, () => osdsAre(io.admin, [id], "down"), 120_000);
  };
  if (entry.state.includes("destroyed")) {
    report.mode = "resumed";
    io.log(`osd.${id} is already destroyed (its id and CRUSH place kept): preparing the new disk`);
  } else if (opts.inPlace || entry.up === 0) {
    report.mode = "in-place";
    if (entry.up === 1) {
      const why = await refuseReason(io.admin, [id]);
      if (why) throw refusal(id, host, why, "nothing was changed; try again once every PG is active+clean");
    } else {
      const dead = await inactivePgs(io.admin);
      if (dead)
        throw refusal(
          id,
          host,
          `PGs cannot serve I/O (${dead}): osd.${id} may hold their last copy`,
          "bring osd.N back if its disk still reads; ceph health detail names the PGs",
        );
    }
    await ceph(io.admin, `set noout on osd.${id}`, ["osd", "add-noout", `osd.${id}`]);
    if (entry.up === 1) await stop();
    await ceph(io.admin, `destroy osd.${id}`, [
      "osd",
      "destroy",
      String(id),
      "--force",
      "--yes-i-really-mean-it",
    ]);
  } else {
    const unclean = await allClean(io.admin);
    const why =
      unclean === true
        ? await drainRefusal(io.admin, id, io.failureDomain)
        : `not every PG is active+clean: ${unclean}`;
    if (why)
      throw refusal(
        id,
        host,
        why,
        "nothing was changed; --in-place replaces it without draining (its PGs run degraded, at or above min_size, until backfill ends)",
      );
    await ceph(io.admin, `mark osd.${id} out`, ["osd", "out", String(id)]);
    io.log(`osd.${id} is out; its copies move to the other OSDs while it still serves them`);
    const started = Date.now();
    await wait(`drain osd.${id}`, async () => {
      const clean = await allClean(io.admin);
      return clean === true ? safeToDestroy(io.admin, id) : clean;
    });
    report.drainMs = Date.now() - started;
    await stop();
    // Without --force: Ceph checks once more that no PG needs it.
    await ceph(io.admin, `destroy osd.${id}`, ["osd", "destroy", String(id), "--yes-i-really-mean-it"]);
  }
  if (opts.pauseForSwap) {
    report.paused = true;
    io.log(
      `osd.${id} is destroyed, its id and CRUSH place kept: swap the disk at ${spec.path}, then run the same command again`,
    );
    return report;
  }
  await zap(io, spec, id, report.oldUuid);
  const created = await createOsd(io.host, host, spec, id);
  await io.startOsd(created);
  await ceph(io.admin, `mark osd.${id} in`, ["osd", "in", String(id)]);
  await wait(`see the new osd.${id} up`, () => osdsAre(io.admin, [id], "up"), 300_000);
  if (report.mode !== "drain")
    await ceph(io.admin, `clear noout on osd.${id}`, ["osd", "rm-noout", `osd.${id}`]).catch((e: Error) =>
      io.log(`warning: ${e.message}; clear it with ceph osd rm-noout osd.${id}`),
    );
  const started = Date.now();
  await wait(`backfill the new osd.${id}`, () => allClean(io.admin));
  report.backfillMs = Date.now() - started;
  report.newUuid = (await cephJson(io.admin, ["osd", "dump"], OsdDump)).osds.find((o) => o.osd === id)?.uuid;
  io.log(`osd.${id} replaced on ${spec.path}; every PG is active+clean`);
  return report;
}
