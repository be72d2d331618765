import fs from "node:fs/promises";
import path from "node:path";
import { bmcMember } from "./bmc.ts";
import { cgroupLayout, cgroupPids, memberCgroups, payloadDir, readCgroupFile } from "./cgroups.ts";
import { netnsExists } from "./network.ts";
import type { LabHost, LabPlan } from "./plan.ts";
import { readState } from "./state.ts";

export interface HostStatus {
  name: string;
  role: LabHost["role"];
  power: "on" | "off";
  frozen: boolean;
  bmc: "running" | "stopped";
  management: string;
  bmcAddress: string;
  /** Proportional set size of every process in the container, MiB; undefined when off. */
  memoryMiB: number | undefined;
  /** The guests (QEMU processes) among them: how many, and their PSS in MiB. */
  guests: { count: number; memoryMiB: number };
  processes: number;
}

export interface LabStatus {
  up: boolean;
  netns: boolean;
  hosts: HostStatus[];
}

/**
 * Reads the lab's state from the machine itself (cgroups, /proc), not through the BMCs, so it is
 * quick and works while a BMC is wedged. Power here is "the host's processes exist".
 */
export async function labStatus(plan: LabPlan | undefined): Promise<LabStatus> {
  const state = await readState();
  const netns = await netnsExists();
  if (!plan) return { up: state !== undefined, netns, hosts: [] };
  const layout = await cgroupLayout();
  const hosts: HostStatus[] = [];
  for (const host of plan.hosts) {
    const [hostCg] = memberCgroups(layout, host.name);
    const [bmcCg] = memberCgroups(layout, bmcMember(host.name));
    const payload = payloadDir(layout, host.name);
    const all = hostCg ? await cgroupPids(hostCg) : [];
    const inside = await cgroupPids(payload);
    const power = all.length > 0 ? "on" : "off";
    hosts.push({
      name: host.name,
      role: host.role,
      power,
      frozen: power === "on" && (await readCgroupFile(payload, "cgroup.freeze")) === "1",
      bmc: bmcCg && (await cgroupPids(bmcCg)).length > 0 ? "running" : "stopped",
      management: host.addresses.management ?? "",
      bmcAddress: host.bmcAddress,
      memoryMiB: power === "on" ? await pssMiB(inside) : undefined,
      guests: await guestsOf(inside),
      processes: inside.length,
    });
  }
  return { up: state !== undefined, netns, hosts };
}

/** QEMU processes (a compute's guests) among `pids`, and their PSS. */
async function guestsOf(pids: number[]): Promise<HostStatus["guests"]> {
  const qemu: number[] = [];
  for (const pid of pids) {
    const comm = await fs.readFile(path.join("/proc", String(pid), "comm"), "utf8").catch(() => "");
    if (comm.startsWith("qemu-system")) qemu.push(pid);
  }
  return { count: qemu.length, memoryMiB: qemu.length > 0 ? await pssMiB(qemu) : 0 };
}

/** Sum of PSS: the container's fair share of memory (v1 memory cgroups are not per container here). */
export async function pssMiB(pids: number[]): Promise<number> {
  let kib = 0;
  for (const pid of pids) {
    try {
      const text = await fs.readFile(path.join("/proc", String(pid), "smaps_rollup"), "utf8");
      const match = /^Pss:\s+(\d+) kB/m.exec(text);
      if (match?.[1]) kib += Number(match[1]);
    } catch {
      // The process exited meanwhile.
    }
  }
  return Math.round(kib / 1024);
}

/** The lab's whole footprint, and the guests' share of it (the issue's "idle" and "8 servers" figures). */
export function memoryLine(hosts: readonly HostStatus[]): string {
  const total = hosts.reduce((n, h) => n + (h.memoryMiB ?? 0), 0);
  const count = hosts.reduce((n, h) => n + h.guests.count, 0);
  const guests = hosts.reduce((n, h) => n + h.guests.memoryMiB, 0);
  const each = count > 0 ? `, ${Math.round(guests / count)} MiB each` : "";
  return `memory: ${total} MiB in the hosts (PSS), of which ${count} guest(s) ${guests} MiB${each}`;
}

export function formatStatus(status: LabStatus): string {
  if (status.hosts.length === 0)
    return status.netns ? "lab: half up (run `hastack lab up` or `lab down`)\n" : "lab: down\n";
  const rows = [["HOST", "ROLE", "POWER", "MANAGEMENT", "BMC", "MEMORY", "PROCS"]];
  for (const h of status.hosts) {
    const power = h.frozen ? "frozen" : h.power;
    const mem = h.memoryMiB === undefined ? "-" : `${h.memoryMiB} MiB`;
    rows.push([h.name, h.role, power, h.management, `${h.bmcAddress} (${h.bmc})`, mem, String(h.processes)]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
  const on = status.hosts.filter((h) => h.power === "on").length;
  return `lab: ${on}/${status.hosts.length} hosts running, network namespace ${status.netns ? "present" : "missing"}\n${lines.join("\n")}\n${memoryLine(status.hosts)}\n`;
}
