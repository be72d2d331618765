import fs from "node:fs/promises";
import path from "node:path";
import {
  type BmcEndpoint,
  type IpmiOutcome,
  ipmiLocal,
  type PowerAction,
  type PowerState,
  requireIpmi,
} from "../hostkit/ipmi.ts";
import { HastackError } from "../util/errors.ts";
import { type CgroupLayout, cgroupPids, memberCgroups } from "./cgroups.ts";
import { spawnDaemon } from "./daemon.ts";
import { lastLines } from "./exec.ts";
import { hostDir, plainWord } from "./host.ts";
import { inLab } from "./network.ts";
import { labDir } from "./paths.ts";
import { BMC_PORT, BMC_USER, hostVeth, type LabHost } from "./plan.ts";

export function bmcDir(host: string): string {
  return path.join(labDir(), "bmc", host);
}

/** The cgroup member name of a host's BMC (the host itself is the member named like the host). */
export function bmcMember(host: string): string {
  return `bmc-${host}`;
}

/**
 * ipmi_sim configuration: lanplus only through MD5-free RMCP+ (ipmitool's cipher suite 3),
 * one admin user with the host's own password, no anonymous user. The file holds the password,
 * so it is readable by root only.
 */
export function renderLanConf(host: LabHost, password: string): string {
  const chassis = ["/bin/sh", path.join(labDir(), "bin", "bmc-chassis.sh"), hostDir(host.name)];
  return [
    `name "${host.name}"`,
    "set_working_mc 0x20",
    "  startlan 1",
    `    addr ${host.bmcAddress} ${BMC_PORT}`,
    "    priv_limit admin",
    "    allowed_auths_callback md5",
    "    allowed_auths_user md5",
    "    allowed_auths_operator md5",
    "    allowed_auths_admin md5",
    `    guid ${guidFor(host)}`,
    "  endlan",
    `  chassis_control "${chassis.map(plainWord).join(" ")}"`,
    'user 1 false "" "" user 1 md5',
    `user 2 true "${BMC_USER}" "${password}" admin 10 md5`,
    "",
  ].join("\n");
}

const EMU = [
  "mc_setbmc 0x20",
  "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr",
  "sel_enable 0x20 1000 0x0a",
  "mc_enable 0x20",
  "",
].join("\n");

function guidFor(host: LabHost): string {
  return `a1b2c3d4e5f6a7b8c9d0${host.octet.toString(16).padStart(12, "0")}`;
}

export async function writeBmcConfig(layout: CgroupLayout, host: LabHost, password: string): Promise<void> {
  const dir = bmcDir(host.name);
  await fs.mkdir(path.join(dir, "state"), { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  await fs.writeFile(path.join(dir, "lan.conf"), renderLanConf(host, password), { mode: 0o600 });
  await fs.writeFile(path.join(dir, "sim.emu"), EMU);
  const [unified] = memberCgroups(layout, host.name);
  await fs.writeFile(path.join(hostDir(host.name), "cgroup"), `${unified}\n`);
  // The chassis script takes these down before a power-off (bmc-chassis.sh: a pulled plug).
  const links = host.networks.map((net) => hostVeth(host.name, net)).join(" ");
  await fs.writeFile(path.join(hostDir(host.name), "links"), `${links}\n`);
}

export async function bmcRunning(layout: CgroupLayout, host: string): Promise<boolean> {
  const [unified] = memberCgroups(layout, bmcMember(host));
  return unified !== undefined && (await cgroupPids(unified)).length > 0;
}

/** Starts the host's ipmi_sim in the lab namespace unless it already runs, and waits until it answers. */
export async function ensureBmc(layout: CgroupLayout, host: LabHost, password: string): Promise<void> {
  if (await bmcRunning(layout, host.name)) return;
  const dir = bmcDir(host.name);
  const args = [
    "-c",
    path.join(dir, "lan.conf"),
    "-f",
    path.join(dir, "sim.emu"),
    "-s",
    path.join(dir, "state"),
    "-n",
  ];
  await spawnDaemon(
    memberCgroups(layout, bmcMember(host.name)),
    "ipmi_sim",
    args,
    path.join(dir, "ipmi_sim.log"),
  );
  const deadline = Date.now() + 10_000;
  let last = "";
  while (Date.now() < deadline) {
    const outcome = await ipmi(host, password, ["chassis", "power", "status"]);
    if (outcome.ok) return;
    last = outcome.detail;
    if (!(await bmcRunning(layout, host.name))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new HastackError(
    "E_LAB_BMC",
    `Cannot start the BMC of ${host.name}: ${lastLines(last, 2) || "ipmi_sim exited"}`,
    {
      hint: `see ${path.join(dir, "ipmi_sim.log")}`,
    },
  );
}

/** A lab host's BMC as ipmitool reaches it: the lab's BMCs take cipher suite 3 only. */
export function labBmcEndpoint(host: LabHost): BmcEndpoint {
  return { address: host.bmcAddress, port: BMC_PORT, user: BMC_USER, lanplus: true, cipherSuite: 3 };
}

/** Talks to a host's BMC the way a fence agent does: ipmitool over lanplus, from the lab namespace. */
function ipmi(host: LabHost, password: string, command: string[]): Promise<IpmiOutcome> {
  return ipmiLocal(labBmcEndpoint(host), password, command, { wrap: inLab, verbose: true });
}

export type { PowerState };

export async function powerStatus(host: LabHost, password: string): Promise<PowerState> {
  const outcome = await ipmi(host, password, ["chassis", "power", "status"]);
  const { power } = requireIpmi(outcome, `read the power state of ${host.name}`, labBmcEndpoint(host));
  if (power === undefined) throw new HastackError("E_LAB_BMC", `Cannot read the power state of ${host.name}`);
  return power;
}

export async function powerControl(host: LabHost, password: string, action: PowerAction): Promise<void> {
  requireIpmi(
    await ipmi(host, password, ["chassis", "power", action]),
    `power ${action} ${host.name}`,
    labBmcEndpoint(host),
  );
}
