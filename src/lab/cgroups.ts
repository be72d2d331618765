import fs from "node:fs/promises";
import path from "node:path";
import { exists } from "../util/fs.ts";

/**
 * The lab's cgroups. Each host runs in its own cgroup so nspawn's --keep-unit gives it a private
 * payload/supervisor pair (shared ones were seen mixing containers), and so a power pull is one
 * write to payload/cgroup.kill. On a hybrid host (cgroup v1 + unified, like this dev machine) the
 * unified hierarchy carries kill/freeze and the name=systemd one is what nspawn's systemd expects.
 */
export const LAB_CGROUP = "hastack-lab";

export interface CgroupLayout {
  /** cgroup2 mount: cgroup.kill, cgroup.freeze, cgroup.procs. */
  unified: string;
  /** name=systemd v1 hierarchy on hybrid hosts; undefined on pure cgroup2 hosts. */
  named: string | undefined;
}

export async function cgroupLayout(): Promise<CgroupLayout> {
  if (await exists("/sys/fs/cgroup/cgroup.controllers"))
    return { unified: "/sys/fs/cgroup", named: undefined };
  return { unified: "/sys/fs/cgroup/unified", named: "/sys/fs/cgroup/systemd" };
}

/** The cgroup directories (unified first) for one member of the lab, e.g. a host or a BMC. */
export function memberCgroups(layout: CgroupLayout, member: string): string[] {
  const dirs = [path.join(layout.unified, LAB_CGROUP, member)];
  if (layout.named) dirs.push(path.join(layout.named, LAB_CGROUP, member));
  return dirs;
}

export function payloadDir(layout: CgroupLayout, host: string): string {
  return path.join(layout.unified, LAB_CGROUP, host, "payload");
}

/** Every PID anywhere below `dir` (cgroup.procs lists only a cgroup's own members). */
export async function cgroupPids(dir: string): Promise<number[]> {
  const pids: number[] = [];
  let text = "";
  try {
    text = await fs.readFile(path.join(dir, "cgroup.procs"), "utf8");
  } catch {
    return pids;
  }
  for (const line of text.split("\n")) if (line.trim() !== "") pids.push(Number(line));
  for (const child of await subdirs(dir)) pids.push(...(await cgroupPids(child)));
  return pids.filter((pid) => pid > 0);
}

/** Removes a cgroup tree bottom-up; a cgroup can only be removed once it has no processes. */
export async function removeCgroupTree(dir: string): Promise<void> {
  for (const child of await subdirs(dir)) await removeCgroupTree(child);
  try {
    await fs.rmdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

export async function writeCgroupFile(dir: string, file: string, value: string): Promise<boolean> {
  try {
    await fs.writeFile(path.join(dir, file), value);
    return true;
  } catch {
    return false;
  }
}

export async function readCgroupFile(dir: string, file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path.join(dir, file), "utf8")).trim();
  } catch {
    return undefined;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}
