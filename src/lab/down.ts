import fs from "node:fs/promises";
import path from "node:path";
import { cgroupLayout, cgroupPids, LAB_CGROUP, removeCgroupTree, writeCgroupFile } from "./cgroups.ts";
import { hostsDir } from "./host.ts";
import { removeTree, unmountUnder } from "./mounts.ts";
import { removeNetwork } from "./network.ts";
import { labDir } from "./paths.ts";
import { statePath } from "./state.ts";

const NSPAWN_PROPAGATE = "/run/systemd/nspawn/propagate";

/**
 * Removes everything `lab up` created except the lab's keys, secrets and inventory. Works from
 * what is on the machine (cgroups, mounts, the namespace), not only from the state file, so it
 * also cleans up after a crash or a half-finished `up`.
 */
export async function labDown(progress: (line: string) => void = () => {}): Promise<void> {
  const layout = await cgroupLayout();
  const unified = path.join(layout.unified, LAB_CGROUP);
  const killed = await killAll(unified);
  if (killed > 0) progress(`killed ${killed} lab processes`);
  await unmountUnder(hostsDir());
  await removeTree(hostsDir());
  await removeTree(path.join(labDir(), "bmc"));
  await removeTree(path.join(labDir(), "bin"));
  await removeNetwork();
  await removeCgroupTree(unified);
  if (layout.named) await removeCgroupTree(path.join(layout.named, LAB_CGROUP));
  await removePropagateDirs();
  await fs.rm(statePath(), { force: true });
  progress("lab is down");
}

/**
 * Kills every process in the lab's cgroups: cgroup.kill per member, then SIGKILL by PID for
 * whatever is left (a kernel without cgroup.kill), until the tree is empty.
 */
async function killAll(root: string): Promise<number> {
  const first = await cgroupPids(root);
  if (first.length === 0) return 0;
  let members: string[] = [];
  try {
    members = (await fs.readdir(root, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    members = [];
  }
  // Hosts before their BMCs, so no BMC powers a host on again mid-teardown.
  for (const m of [
    ...members.filter((n) => !n.startsWith("bmc-")),
    ...members.filter((n) => n.startsWith("bmc-")),
  ]) {
    await writeCgroupFile(path.join(root, m), "cgroup.kill", "1");
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pids = await cgroupPids(root);
    if (pids.length === 0 || Date.now() > deadline) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return first.length;
}

/** nspawn leaves these behind because this machine's /run is not a tmpfs (harmless, but ours). */
async function removePropagateDirs(): Promise<void> {
  let names: string[] = [];
  try {
    names = await fs.readdir(NSPAWN_PROPAGATE);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith("hastack-lab-")) await removeTree(path.join(NSPAWN_PROPAGATE, name));
  }
}
