/**
 * @module
 * One run of the storage-host power-off drill: refuse when the host's loss would leave PGs below
 * min_size, write through RBD from a client, pull the host's plug, keep it off long enough for
 * Ceph to mark its OSDs down, power it on, and measure the stall and the time back to
 * active+clean. The injector (lab BMC or real IPMI) is passed in.
 */
import type { FaultInjector } from "../../ops/drills/types.ts";
import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { startWriter, timeToClean } from "./io-stall.ts";
import { ADMIN_KEYRING, CLIENTS, clientHosts, monHosts } from "./layout.ts";
import { hostOsdIds, refuseReason } from "./maintenance.ts";

export interface PoweroffRun {
  target: string;
  client: string;
  stallMs: number;
  writes: number;
  /** From power-on to every PG active+clean. */
  recoveryMs: number;
}

export interface DrillIo {
  topology: Topology;
  admin: Transport;
  transport(host: string): Transport;
  injector: FaultInjector;
  log(line: string): void;
}

/** A compute with Nova's key writing to vms (a VM's disk), else a monitor host with the admin key. */
function writerFor(
  io: DrillIo,
  target: string,
): { host: string; user: string; keyring: string; pool: string } {
  const nova = CLIENTS.find((c) => c.name === "nova");
  const compute = nova ? clientHosts(io.topology, nova)[0] : undefined;
  if (compute)
    return { host: compute, user: "nova", keyring: "/etc/ceph/ceph.client.nova.keyring", pool: "vms" };
  const mon = monHosts(io.topology).find((h) => h.name !== target);
  if (!mon)
    throw new HastackError("E_DRILL_PRECONDITION", "Cannot find a Ceph client host other than the target");
  return { host: mon.name, user: "admin", keyring: ADMIN_KEYRING, pool: "volumes" };
}

export async function storagePoweroff(io: DrillIo, target: string, holdS = 45): Promise<PoweroffRun> {
  const why = await refuseReason(io.admin, await hostOsdIds(io.admin, target));
  if (why) throw new HastackError("E_DRILL_PRECONDITION", `Cannot power off ${target}: ${why}`);
  const w = writerFor(io, target);
  const baselineS = 5;
  const writer = startWriter(io.transport(w.host), w, baselineS + holdS + 20);
  await new Promise((r) => setTimeout(r, baselineS * 1000));
  io.log(`writing through RBD from ${w.host} (client.${w.user}, pool ${w.pool}); powering off ${target}`);
  await io.injector.powerOff(target);
  await new Promise((r) => setTimeout(r, holdS * 1000));
  io.log(`powering ${target} on again`);
  await io.injector.powerOn(target);
  const recoveryMs = await timeToClean(io.admin, 600_000);
  const stall = await writer.done;
  io.log(
    `stall ${(stall.stallMs / 1000).toFixed(1)} s over ${stall.writes} writes; active+clean ${(recoveryMs / 1000).toFixed(1)} s after power-on`,
  );
  return { target, client: w.host, stallMs: stall.stallMs, writes: stall.writes, recoveryMs };
}
