/**
 * @module
 * A monitor host loses power (through its BMC) while a client writes through RBD. The surviving
 * monitors must form a quorum without it (an election when it was the leader), client I/O must
 * go on, and after power-on it must rejoin. Measured: the stall, when the survivors had a quorum
 * without it, when it was back in the quorum, and the time from power-on to HEALTH_OK. When the
 * host also carries OSDs (monitors on the storage hosts), its OSDs are lost too and the stall is
 * the heartbeat grace, as in storage-poweroff.
 */
import { HastackError } from "../../util/errors.ts";
import { cephArgv, cephJson } from "./ceph-tool.ts";
import { fullQuorum } from "./converge.ts";
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
import { monHosts, osdHosts } from "./layout.ts";
import { hostOsdIds, refuseReason } from "./maintenance.ts";
import { fmt } from "./poweroff-drill.ts";
import { QuorumStatus } from "./schemas.ts";

/** The quorum leader's host: losing it costs an election, the harder case. */
export async function leaderHost(io: Pick<DrillIo, "admin" | "topology">): Promise<string> {
  const q = await cephJson(io.admin, ["quorum_status"], QuorumStatus);
  const leader = q.quorum_leader_name;
  const host = monHosts(io.topology).find((h) => h.name === leader);
  if (!host)
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot find the host of the leading monitor ${leader ?? "(none)"}`,
    );
  return host.name;
}

export async function monLost(io: DrillIo, target: string, holdS = 45): Promise<CephDrillRun> {
  if (!monHosts(io.topology).some((h) => h.name === target))
    throw new HastackError("E_DRILL_PRECONDITION", `Cannot run mon-lost on ${target}: it runs no monitor`);
  await requireHealthy(io, "mon-lost", target);
  const whole = await fullQuorum(io.admin);
  if (whole !== true) throw new HastackError("E_DRILL_PRECONDITION", `Cannot power off ${target}: ${whole}`);
  const ok = await io.admin.exec(cephArgv(["mon", "ok-to-stop", target]));
  if (ok.code !== 0)
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot power off ${target}: ceph mon ok-to-stop: ${`${ok.stderr}${ok.stdout}`.trim()}`,
    );
  if (osdHosts(io.topology).some((h) => h.name === target)) {
    const why = await refuseReason(io.admin, await hostOsdIds(io.admin, target));
    if (why) throw new HastackError("E_DRILL_PRECONDITION", `Cannot power off ${target}: ${why}`);
  }
  const mons = monHosts(io.topology).length;
  const w = writerFor(io, target);
  const writer = startWriter(io.transport(w.host), w, 5 + holdS + 20);
  await sleep(5000);
  io.log(
    `writing through RBD from ${w.host} (client.${w.user}, pool ${w.pool}); powering off monitor host ${target}`,
  );
  const off = Date.now();
  await io.injector.powerOff(target);
  const timings: { label: string; ms: number }[] = [];
  const problems: string[] = [];
  // Until the hold ends: when do the survivors answer with a quorum that no longer counts it?
  while (Date.now() - off < holdS * 1000) {
    const q = await cephJson(io.admin, ["quorum_status"], QuorumStatus, { connectTimeoutS: 3 }).catch(
      () => undefined,
    );
    if (q && !q.quorum_names.includes(target) && q.quorum_names.length > mons / 2) {
      timings.push({ label: `quorum of ${q.quorum_names.join(", ")}`, ms: Date.now() - off });
      break;
    }
    await sleep(1000);
  }
  if (timings.length === 0)
    problems.push(`the surviving monitors had no quorum without ${target} within ${holdS} s`);
  await sleep(Math.max(0, holdS * 1000 - (Date.now() - off)));
  io.log(`powering ${target} on again`);
  await io.injector.powerOn(target);
  const on = Date.now();
  for (;;) {
    if ((await fullQuorum(io.admin).catch(() => "")) === true) {
      timings.push({ label: "back in quorum", ms: Date.now() - on });
      break;
    }
    if (Date.now() - on > 300_000) {
      problems.push(`ceph-mon on ${target} was not back in the quorum 300 s after power-on`);
      break;
    }
    await sleep(1000);
  }
  const recovery = await recoveryTimes(io.admin, on, 600_000);
  const run = conclude({
    drill: "mon-lost",
    target,
    action: `powered monitor host ${target} off for ${holdS} s through its BMC`,
    client: w.host,
    writer: await writerFacts(writer),
    recovery,
    timings,
    problems,
  });
  io.log(
    `stall ${(run.stallMs / 1000).toFixed(1)} s over ${run.writes} writes; ${timings.map((t) => `${t.label} ${fmt(t.ms)}`).join(", ")}; HEALTH_OK ${fmt(run.healthOkMs)} after power-on`,
  );
  return run;
}
