/**
 * @module
 * One OSD daemon killed (SIGKILL, as the kernel's OOM killer or a crash would) while a client
 * writes through RBD. Unlike a host power-off, its peers see connections refused at once and
 * report it, so the stall should be far shorter than the heartbeat grace; systemd restarts it
 * (Restart=on-failure, 10 s) and backfill catches it up. Measured: the stall, when Ceph marked
 * it down, when it was up again, and the time from the kill to active+clean and HEALTH_OK.
 */

import { HastackError } from "../../util/errors.ts";
import { cephJson } from "./ceph-tool.ts";
import {
  type CephDrillRun,
  conclude,
  type DrillIo,
  requireHealthy,
  sleep,
  writerFacts,
  writerFor,
} from "./drill-kit.ts";
import { recoveryTimes, startWriter } from "./io-stall.ts";
import { hostOsdIds, refuseReason } from "./maintenance.ts";
import { fmt } from "./poweroff-drill.ts";
import { OsdDump } from "./schemas.ts";

/** How long systemd gets to bring the daemon back (RestartSec=10 plus the OSD's start). */
const RESTART_BUDGET_MS = 90_000;

export async function osdKill(io: DrillIo, target: string, osd?: number): Promise<CephDrillRun> {
  await requireHealthy(io, "osd-kill", target);
  const ids = await hostOsdIds(io.admin, target);
  const id = osd ?? ids[0];
  if (id === undefined || !ids.includes(id))
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot kill osd.${osd} on ${target}: ${target} holds ${ids.map((i) => `osd.${i}`).join(", ")}`,
    );
  const why = await refuseReason(io.admin, [id]);
  if (why) throw new HastackError("E_DRILL_PRECONDITION", `Cannot kill osd.${id} on ${target}: ${why}`);
  const before =
    (await cephJson(io.admin, ["osd", "dump"], OsdDump)).osds.find((o) => o.osd === id)?.up_from ?? 0;
  const host = io.transport(target);
  const unit = `ceph-osd@${id}`;
  const w = writerFor(io, target);
  const writer = startWriter(io.transport(w.host), w, 60);
  await sleep(5000);
  io.log(
    `writing through RBD from ${w.host} (client.${w.user}, pool ${w.pool}); killing ${unit} on ${target}`,
  );
  const killed = Date.now();
  const kill = await host.exec(["systemctl", "kill", "--signal=SIGKILL", unit]);
  if (kill.code !== 0)
    throw new HastackError(
      "E_DRILL_INJECT",
      `Cannot kill ${unit} on ${target}: exit code ${kill.code}: ${kill.stderr.trim()}`,
    );
  const timings: { label: string; ms: number }[] = [];
  const problems: string[] = [];
  let seenDown = false;
  for (;;) {
    const dump = await cephJson(io.admin, ["osd", "dump"], OsdDump, { connectTimeoutS: 5 }).catch(
      () => undefined,
    );
    const o = dump?.osds.find((x) => x.osd === id);
    if (o && o.up === 0 && !seenDown) {
      seenDown = true;
      timings.push({ label: "marked down", ms: Date.now() - killed });
    }
    if (o && o.up === 1 && o.up_from > before) {
      timings.push({ label: "up again", ms: Date.now() - killed });
      break;
    }
    if (Date.now() - killed > RESTART_BUDGET_MS) {
      problems.push(
        `systemd did not restart ${unit} within ${RESTART_BUDGET_MS / 1000} s (started by the drill)`,
      );
      await host.exec(["systemctl", "reset-failed", unit]);
      await host.exec(["systemctl", "start", unit]);
      break;
    }
    await sleep(1000);
  }
  const recovery = await recoveryTimes(io.admin, killed, 600_000);
  // StartLimitBurst=3 in 30 min: without this, the fourth drill in half an hour stays dead.
  await host.exec(["systemctl", "reset-failed", unit]);
  const run = conclude({
    drill: "osd-kill",
    target,
    action: `killed ${unit} on ${target} with SIGKILL`,
    client: w.host,
    writer: await writerFacts(writer),
    recovery,
    timings,
    problems,
  });
  io.log(
    `stall ${(run.stallMs / 1000).toFixed(1)} s over ${run.writes} writes; ${timings.map((t) => `${t.label} ${fmt(t.ms)}`).join(", ")}; HEALTH_OK ${fmt(run.healthOkMs)} after the kill`,
  );
  return run;
}
