/**
 * @module
 * One run of the storage-host power-off drill: refuse when the host's loss would leave PGs below
 * min_size, write through RBD from a client, pull the host's plug, keep it off long enough for
 * Ceph to mark its OSDs down, power it on, and measure the stall and the time back to
 * active+clean and HEALTH_OK. The injector (lab BMC or real IPMI) is passed in.
 */
import { HastackError } from "../../util/errors.ts";
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

export async function storagePoweroff(io: DrillIo, target: string, holdS = 45): Promise<CephDrillRun> {
  await requireHealthy(io, "storage-poweroff", target);
  const why = await refuseReason(io.admin, await hostOsdIds(io.admin, target));
  if (why) throw new HastackError("E_DRILL_PRECONDITION", `Cannot power off ${target}: ${why}`);
  const w = writerFor(io, target);
  const baselineS = 5;
  const writer = startWriter(io.transport(w.host), w, baselineS + holdS + 20);
  await sleep(baselineS * 1000);
  io.log(`writing through RBD from ${w.host} (client.${w.user}, pool ${w.pool}); powering off ${target}`);
  const off = Date.now();
  await io.injector.powerOff(target);
  await sleep(holdS * 1000);
  io.log(`powering ${target} on again`);
  await io.injector.powerOn(target);
  const on = Date.now();
  const recovery = await recoveryTimes(io.admin, on, 600_000);
  const run = conclude({
    drill: "storage-poweroff",
    target,
    action: `powered ${target} off for ${holdS} s through its BMC`,
    client: w.host,
    writer: await writerFacts(writer),
    recovery,
    timings: [{ label: "off", ms: on - off }],
  });
  io.log(
    `stall ${(run.stallMs / 1000).toFixed(1)} s over ${run.writes} writes; active+clean ${fmt(run.cleanMs)}, HEALTH_OK ${fmt(run.healthOkMs)} after power-on`,
  );
  return run;
}

export function fmt(ms: number | undefined): string {
  return ms === undefined || Number.isNaN(ms) ? "never" : `${(ms / 1000).toFixed(1)} s`;
}
