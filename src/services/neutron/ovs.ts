/**
 * @module
 * How an OVN chassis' Open vSwitch is set for the chosen datapath. The kernel datapath is OVS's
 * default ("system"). The userspace one ("netdev") needs three things (measured in
 * lab-feasibility-compute-vms-ovn): every bridge with datapath_type=netdev, ovn-controller told
 * to create br-int that way (external_ids:ovn-bridge-datapath-type, which Neutron also passes to
 * os-vif, whose add_br would otherwise reset br-int to system), and userspace TSO, read by
 * ovs-vswitchd only when it starts.
 */
import type { NeutronSettings } from "./settings.ts";

export type OvsDatapathType = "system" | "netdev";

export function ovsDatapathType(settings: NeutronSettings): OvsDatapathType {
  return settings.datapath === "userspace" ? "netdev" : "system";
}

/**
 * One ovs-vsctl transaction that sets the datapath for the chassis and creates `bridges` (the
 * provider bridge...) with it. --no-wait: it only writes ovsdb, so it can run before
 * ovs-vswitchd starts, and re-running it changes nothing. Switching back to the kernel datapath
 * removes the userspace-only key.
 */
export function datapathCommand(settings: NeutronSettings, bridges: readonly string[]): string[] {
  const type = ovsDatapathType(settings);
  const tso = type === "netdev" && settings.userspace_tso;
  const open = tso
    ? ["--", "set", "Open_vSwitch", ".", "other_config:userspace-tso-enable=true"]
    : ["--", "remove", "Open_vSwitch", ".", "other_config", "userspace-tso-enable"];
  return [
    "ovs-vsctl",
    "--no-wait",
    "--",
    "set",
    "Open_vSwitch",
    ".",
    `external_ids:ovn-bridge-datapath-type=${type}`,
    ...open,
    ...bridges.flatMap((b) => [
      "--",
      "--may-exist",
      "add-br",
      b,
      "--",
      "set",
      "Bridge",
      b,
      `datapath_type=${type}`,
    ]),
  ];
}

/**
 * Whether ovs-vswitchd must restart for the change to hold: it reads userspace-tso-enable only
 * at start, so a change of that key (either way) needs a restart; datapath types apply live.
 */
export function needsVswitchdRestart(
  before: { tso: string | undefined },
  settings: NeutronSettings,
): boolean {
  const wanted = ovsDatapathType(settings) === "netdev" && settings.userspace_tso ? "true" : undefined;
  return before.tso !== wanted;
}
