/**
 * @module
 * `hastack ceph maintenance HOST on|off`, the book's storage-node maintenance (ch. 14.2.6) with
 * today's commands: refuse unless every PG is active+clean and Ceph itself says the host's OSDs
 * are ok to stop (no PG would fall below min_size); then noout for that host only, stop its
 * OSDs. Off: start them, wait until they are up, clear the flag, wait for active+clean, so the
 * next host may go.
 */
import { z } from "zod";
import { startDeliberately, systemctl } from "../../hostkit/systemd.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { ceph, cephArgv, cephJson } from "./ceph-tool.ts";
import { allClean, waitFor } from "./converge.ts";
import { explainPgState, pgStateHealth } from "./pg-states.ts";
import { OsdTree, Status } from "./schemas.ts";
import { osdsByHost } from "./verdicts.ts";

export interface MaintenanceIo {
  /** Transport of a monitor host (admin keyring) for cluster commands. */
  admin: Transport;
  /** Transport of the host under maintenance (its OSD units). */
  host: Transport;
  log(line: string): void;
  signal?: AbortSignal;
}

const OkToStop = z.object({ ok_to_stop: z.boolean(), bad_become_inactive: z.array(z.string()).default([]) });

export async function hostOsdIds(admin: Transport, host: string): Promise<number[]> {
  const tree = await cephJson(admin, ["osd", "tree"], OsdTree);
  const entry = osdsByHost(tree).find((h) => h.host === host);
  if (!entry || entry.osds.length === 0)
    throw new HastackError(
      "E_CEPH_MAINTENANCE",
      `Cannot find OSDs of ${host} in the CRUSH map (ceph osd tree)`,
    );
  return entry.osds.map((o) => Number(o.name.replace("osd.", "")));
}

/** Why the host may not go now, or undefined when it may. */
export async function refuseReason(admin: Transport, ids: number[]): Promise<string | undefined> {
  const st = await cephJson(admin, ["status"], Status);
  const unclean = st.pgmap.pgs_by_state.filter((p) => pgStateHealth(p.state_name) !== "ok");
  if (unclean.length > 0)
    return `not every PG is active+clean: ${unclean.map((p) => `${p.count} ${p.state_name} (${explainPgState(p.state_name)})`).join("; ")}; wait until the last host's recovery is done`;
  // Ceph's own answer: would any PG lose its last copy above min_size? Exit code EBUSY when so.
  const r = await admin.exec(cephArgv(["osd", "ok-to-stop", ...ids.map(String), "-f", "json"]));
  const parsed = OkToStop.safeParse(jsonOrNothing(r.stdout));
  if (r.code !== 0 || !parsed.success || !parsed.data.ok_to_stop) {
    const pgs = parsed.success ? parsed.data.bad_become_inactive : [];
    return `stopping ${ids.map((i) => `osd.${i}`).join(", ")} would leave ${pgs.length || "some"} PG(s) below min_size (${pgs.slice(0, 8).join(", ")}${r.stderr.trim() ? `; ${r.stderr.trim()}` : ""}): their I/O would stop`;
  }
  return undefined;
}

function jsonOrNothing(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function wait(io: MaintenanceIo, what: string, probe: () => Promise<true | string>, timeoutMs: number) {
  return waitFor(io, "E_CEPH_MAINTENANCE", what, probe, timeoutMs);
}

export async function maintenanceOn(io: MaintenanceIo, host: string): Promise<number[]> {
  const ids = await hostOsdIds(io.admin, host);
  const why = await refuseReason(io.admin, ids);
  if (why)
    throw new HastackError("E_CEPH_MAINTENANCE", `Cannot take ${host} into maintenance: ${why}`, {
      hint: "no data is at risk as long as nothing is stopped; try again once `hastack status --only ceph` is green",
    });
  // noout on the host's bucket only: its OSDs stay "in" (no re-replication), other hosts keep theirs.
  await ceph(io.admin, `set noout on ${host}`, ["osd", "set-group", "noout", host]);
  io.log(`noout set on ${host}; stopping ${ids.map((i) => `osd.${i}`).join(", ")}`);
  await systemctl(
    io.host,
    "stop",
    ids.map((i) => `ceph-osd@${i}`),
  );
  await wait(
    io,
    `see ${host}'s OSDs down`,
    async () => {
      const tree = await cephJson(io.admin, ["osd", "tree"], OsdTree);
      const up =
        osdsByHost(tree)
          .find((h) => h.host === host)
          ?.osds.filter((o) => o.up) ?? [];
      return up.length === 0 ? true : `${up.map((o) => o.name).join(", ")} still up`;
    },
    120_000,
  );
  return ids;
}

export async function maintenanceOff(io: MaintenanceIo, host: string): Promise<number[]> {
  const ids = await hostOsdIds(io.admin, host);
  await startDeliberately(
    io.host,
    "start",
    ids.map((i) => `ceph-osd@${i}`),
  );
  await wait(
    io,
    `see ${host}'s OSDs up`,
    async () => {
      const tree = await cephJson(io.admin, ["osd", "tree"], OsdTree);
      const down =
        osdsByHost(tree)
          .find((h) => h.host === host)
          ?.osds.filter((o) => !o.up) ?? [];
      return down.length === 0 ? true : `${down.map((o) => o.name).join(", ")} still down`;
    },
    300_000,
  );
  await ceph(io.admin, `clear noout on ${host}`, ["osd", "unset-group", "noout", host]);
  await wait(io, "get every PG active+clean again", () => allClean(io.admin), 600_000);
  io.log(`${host} is back: its OSDs are up, noout is cleared, every PG is active+clean`);
  return ids;
}
