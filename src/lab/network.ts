import fs from "node:fs/promises";
import { run, runChecked } from "./exec.ts";
import { LAB_NETNS } from "./paths.ts";
import { bridgeAddress, LAB_NETWORKS, type LabNetwork, type LabPlan } from "./plan.ts";

/**
 * A fixed, locally administered MAC per bridge (02:... , "LAB" in ASCII, then the network).
 * A bridge created without one takes the lowest MAC among its ports and changes it when that
 * port goes away: powering off the host with the lowest veth MAC moved every BMC address to a
 * new MAC, and a controller fencing that host kept sending IPMI to the old one from its ARP
 * cache for up to 45 s (docs/tuning.md, "Fence tail"). A real switch and a real BMC keep theirs.
 */
export const BRIDGE_MACS: Record<LabNetwork, string> = {
  management: "02:4c:41:42:00:20",
  storage: "02:4c:41:42:00:21",
  provider: "02:4c:41:42:00:22",
  bmc: "02:4c:41:42:00:29",
};

/** `addr_assign_type` 3 (NET_ADDR_SET): the address was set by hand and stays put. */
const ADDR_SET = "3";

/**
 * The sealed lab network: one namespace, one bridge per network, the namespace itself at .1 on
 * each, and no default route, so nothing from the lab can leave this machine. Nothing here ever
 * touches the root namespace's addresses or routes.
 */
export const NETNS_PATH = `/run/netns/${LAB_NETNS}`;

export async function netnsExists(): Promise<boolean> {
  try {
    await fs.access(NETNS_PATH);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command inside the lab namespace (network only; mounts stay shared with the caller). */
export function inLab(cmd: string, args: readonly string[]): [string, string[]] {
  return ["nsenter", [`--net=${NETNS_PATH}`, "--", cmd, ...args]];
}

export async function ensureNetwork(plan: LabPlan): Promise<void> {
  if (!(await netnsExists()))
    await runChecked("create the lab network namespace", "ip", ["netns", "add", LAB_NETNS]);
  await ipn(["link", "set", "lo", "up"]);
  for (const net of Object.keys(LAB_NETWORKS) as LabNetwork[]) {
    const { bridge } = LAB_NETWORKS[net];
    const shown = await run("ip", ["-n", LAB_NETNS, "link", "show", bridge]);
    if (shown.code !== 0) {
      // STP off and no forward delay: a port forwards the moment it is plugged in.
      await ipn([
        "link",
        "add",
        bridge,
        "address",
        BRIDGE_MACS[net],
        "type",
        "bridge",
        "stp_state",
        "0",
        "forward_delay",
        "0",
      ]);
    }
    // A lab created before the fixed MACs gets them here, without a lab down.
    const mac = await bridgeMac(bridge);
    if (mac.address !== BRIDGE_MACS[net] || mac.assignType !== ADDR_SET)
      await ipn(["link", "set", "dev", bridge, "address", BRIDGE_MACS[net]]);
    await ensureAddress(bridge, `${bridgeAddress(net)}/24`);
    await ipn(["link", "set", bridge, "up"]);
  }
  // The BMCs listen in the namespace itself, one address each on the bmc bridge.
  for (const host of plan.hosts) await ensureAddress(LAB_NETWORKS.bmc.bridge, `${host.bmcAddress}/24`);
  const route = await runChecked("read the lab routes", "ip", ["-n", LAB_NETNS, "route", "show", "default"]);
  if (route.stdout.trim() !== "") await ipn(["route", "flush", "exact", "0.0.0.0/0"]);
}

/** The bridge's MAC and how the kernel assigned it (1: random or taken from a port, 3: set). */
export async function bridgeMac(bridge: string): Promise<{ address: string; assignType: string }> {
  const [address, assignType] = await Promise.all(
    ["address", "addr_assign_type"].map(async (file) => {
      const r = await runChecked(`read ${file} of ${bridge}`, "ip", [
        "netns",
        "exec",
        LAB_NETNS,
        "cat",
        `/sys/class/net/${bridge}/${file}`,
      ]);
      return r.stdout.trim();
    }),
  );
  return { address: address ?? "", assignType: assignType ?? "" };
}

async function ensureAddress(dev: string, cidr: string): Promise<void> {
  const shown = await runChecked(`read addresses of ${dev}`, "ip", [
    "-n",
    LAB_NETNS,
    "-o",
    "addr",
    "show",
    "dev",
    dev,
  ]);
  if (!shown.stdout.includes(` ${cidr} `)) await ipn(["addr", "add", cidr, "dev", dev]);
}

async function ipn(args: string[]): Promise<void> {
  await runChecked(`run ip ${args.join(" ")} in the lab namespace`, "ip", ["-n", LAB_NETNS, ...args]);
}

/** Deleting the namespace deletes every bridge and veth in it. */
export async function removeNetwork(): Promise<void> {
  if (await netnsExists())
    await runChecked("delete the lab network namespace", "ip", ["netns", "delete", LAB_NETNS]);
}

/**
 * Drop every frame on one of a host's links: the bridge port goes to "disabled" (0) and back to
 * "forwarding" (3). The carrier stays up, as with a dead switch port. (`ip link set type
 * bridge_slave state` is silently ignored here; `bridge link set` works.)
 */
export async function setPortForwarding(veth: string, forward: boolean): Promise<void> {
  await runChecked(`${forward ? "heal" : "cut"} ${veth}`, "bridge", [
    "-n",
    LAB_NETNS,
    "link",
    "set",
    "dev",
    veth,
    "state",
    forward ? "3" : "0",
  ]);
}
