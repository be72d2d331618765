import path from "node:path";
import { HastackError } from "../util/errors.ts";
import { bmcMember } from "./bmc.ts";
import { cgroupLayout, memberCgroups, payloadDir, writeCgroupFile } from "./cgroups.ts";
import { runChecked } from "./exec.ts";
import { hostDir } from "./host.ts";
import { setPortForwarding } from "./network.ts";
import { labDir } from "./paths.ts";
import { hostVeth, type LabHost, type LabNetwork } from "./plan.ts";

/**
 * Cuts a host off one network (or all of its networks): its bridge port stops forwarding, so
 * every frame is dropped while the link stays up, like a dead switch port. A power cycle
 * plugs the host in again.
 */
export async function cut(host: LabHost, net?: LabNetwork): Promise<LabNetwork[]> {
  const nets = networksOf(host, net);
  for (const n of nets) await setPortForwarding(hostVeth(host.name, n), false);
  return nets;
}

export async function heal(host: LabHost, net?: LabNetwork): Promise<LabNetwork[]> {
  const nets = networksOf(host, net);
  for (const n of nets) await setPortForwarding(hostVeth(host.name, n), true);
  return nets;
}

function networksOf(host: LabHost, net: LabNetwork | undefined): LabNetwork[] {
  if (net === undefined) return host.networks;
  if (!host.networks.includes(net)) {
    throw new HastackError(
      "E_LAB_NET",
      `Cannot cut ${host.name} off ${net}: it is only on ${host.networks.join(", ")}`,
    );
  }
  return [net];
}

/** A hung host: every process stops (cgroup freezer) but the kernel keeps answering for it. */
export async function freeze(host: LabHost, frozen: boolean): Promise<void> {
  const dir = payloadDir(await cgroupLayout(), host.name);
  if (!(await writeCgroupFile(dir, "cgroup.freeze", frozen ? "1" : "0"))) {
    throw new HastackError(
      "E_LAB_FREEZE",
      `Cannot ${frozen ? "freeze" : "thaw"} ${host.name}: it is not running`,
    );
  }
}

/**
 * A hung BMC: its ipmi_sim stops (cgroup freezer), so IPMI requests to it time out while the
 * host itself runs on or stays off: the "power state unknown" a fence agent meets.
 */
export async function freezeBmc(host: LabHost, frozen: boolean): Promise<void> {
  const [unified] = memberCgroups(await cgroupLayout(), bmcMember(host.name));
  if (unified === undefined || !(await writeCgroupFile(unified, "cgroup.freeze", frozen ? "1" : "0"))) {
    throw new HastackError(
      "E_LAB_FREEZE",
      `Cannot ${frozen ? "freeze" : "thaw"} the BMC of ${host.name}: it is not running`,
    );
  }
}

/**
 * Pulls a host's plug without its BMC: the chassis program its ipmi_sim would run, run here. With
 * `freezeBmc` first, this is a host whose BMC died with it, the case where no power fence can be
 * confirmed and only a storage fence is left.
 */
export async function pullPlug(host: LabHost): Promise<void> {
  const chassis = path.join(labDir(), "bin", "bmc-chassis.sh");
  await runChecked(`pull the plug of ${host.name}`, "/bin/sh", [
    chassis,
    hostDir(host.name),
    "set",
    "power",
    "0",
  ]);
}
