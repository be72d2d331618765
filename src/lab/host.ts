import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { HastackError } from "../util/errors.ts";
import { type CgroupLayout, memberCgroups } from "./cgroups.ts";
import { runChecked } from "./exec.ts";
import { hostKeyDir, labKeyPath } from "./identity.ts";
import { renderEtcHosts } from "./inventory.ts";
import { isMountPoint } from "./mounts.ts";
import { labDir } from "./paths.ts";
import { hostVeth, LAB_NETWORKS, type LabHost, type LabPlan } from "./plan.ts";

/** The nspawn machine name; prefixed so it never collides with other containers on the machine. */
export function machineName(host: string): string {
  return `hastack-lab-${host}`;
}

export function hostsDir(): string {
  return path.join(labDir(), "hosts");
}

export function hostDir(host: string): string {
  return path.join(hostsDir(), host);
}

export function hostRoot(host: string): string {
  return path.join(hostDir(host), "root");
}

/**
 * Gives a host its own overlay over the shared image (the image is only ever a read-only lower
 * layer) and its own identity. The overlay stays mounted across power cycles, like a disk.
 */
export async function prepareHost(plan: LabPlan, host: LabHost, rootfs: string): Promise<void> {
  const dir = hostDir(host.name);
  for (const sub of ["upper", "work", "root"]) await fs.mkdir(path.join(dir, sub), { recursive: true });
  const root = hostRoot(host.name);
  if (!(await isMountPoint(root))) {
    const options = `lowerdir=${rootfs},upperdir=${path.join(dir, "upper")},workdir=${path.join(dir, "work")}`;
    await runChecked(`mount the overlay of ${host.name}`, "mount", [
      "-t",
      "overlay",
      "overlay",
      "-o",
      options,
      root,
    ]);
  }
  await writeIdentity(plan, host, root, path.join(dir, "upper"));
}

async function writeIdentity(plan: LabPlan, host: LabHost, root: string, upper: string): Promise<void> {
  const etc = (p: string) => path.join(root, "etc", p);
  await fs.writeFile(etc("hostname"), `${host.name}\n`);
  const machineId = (await fs.readFile(etc("machine-id"), "utf8").catch(() => "")).trim();
  if (machineId === "") await fs.writeFile(etc("machine-id"), `${randomBytes(16).toString("hex")}\n`);
  // Only on a new host (none in its overlay yet): after that /etc/hosts is host-prep's (it adds
  // the VIPs), and rewriting it at every `lab up` made the next deploy report host-prep.files
  // changed on every host.
  const present = await fs.stat(path.join(upper, "etc/hosts")).then(
    () => true,
    () => false,
  );
  if (!present) await fs.writeFile(etc("hosts"), renderEtcHosts(plan));
  await fs.rm(etc("resolv.conf"), { force: true });
  await fs.writeFile(etc("resolv.conf"), "# The lab has no DNS: every lab name is in /etc/hosts.\n");
  await fs.mkdir(etc("systemd/network"), { recursive: true });
  for (const net of host.networks) {
    const { nic } = LAB_NETWORKS[net];
    // No gateway on purpose: the lab has no way out. Addresses stay through carrier loss so a
    // cut link behaves like a dead switch port, not like an unconfigured NIC.
    const unit = [
      "[Match]",
      `Name=${nic}`,
      "",
      "[Network]",
      `Address=${host.addresses[net]}/24`,
      "LinkLocalAddressing=no",
      "IPv6AcceptRA=no",
      "ConfigureWithoutCarrier=yes",
      "IgnoreCarrierLoss=yes",
      "",
    ].join("\n");
    await fs.writeFile(etc(`systemd/network/10-${nic}.network`), unit);
  }
  const keyDir = hostKeyDir(host.name);
  for (const file of ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]) {
    await fs.copyFile(path.join(keyDir, file), etc(`ssh/${file}`));
  }
  await fs.chmod(etc("ssh/ssh_host_ed25519_key"), 0o600);
  const ssh = path.join(root, "root/.ssh");
  await fs.mkdir(ssh, { recursive: true, mode: 0o700 });
  const pub = await fs.readFile(`${labKeyPath()}.pub`, "utf8");
  await fs.writeFile(path.join(ssh, "authorized_keys"), pub, { mode: 0o600 });
  // Host-to-host SSH as in a real site (deploy may copy files between controllers).
  await fs.copyFile(labKeyPath(), path.join(ssh, "id_ed25519"));
  await fs.chmod(path.join(ssh, "id_ed25519"), 0o600);
  await fs.writeFile(path.join(ssh, "id_ed25519.pub"), pub);
  const config = "Host *\n  StrictHostKeyChecking accept-new\n  LogLevel ERROR\n";
  await fs.writeFile(path.join(ssh, "config"), config, { mode: 0o600 });
}

/** The command the host's BMC runs to power it on (see host-runner.sh). */
export function powerOnScript(layout: CgroupLayout, host: LabHost): string {
  const [unified, named] = memberCgroups(layout, host.name);
  const links = host.networks
    .map((net) => `${hostVeth(host.name, net)}:${LAB_NETWORKS[net].bridge}`)
    .join(",");
  const nspawn = [
    "-D",
    hostRoot(host.name),
    "--boot",
    "--register=no",
    "--keep-unit",
    `--machine=${machineName(host.name)}`,
    "--private-network",
    ...host.networks.map(
      (net) => `--network-veth-extra=${hostVeth(host.name, net)}:${LAB_NETWORKS[net].nic}`,
    ),
    "--resolv-conf=off",
    "--timezone=off",
    "--link-journal=no",
    "--console=read-only",
  ];
  const args = [
    path.join(labDir(), "bin", "host-runner.sh"),
    unified ?? "",
    named ?? "-",
    path.join(hostDir(host.name), "console.log"),
    links,
    "--",
    ...nspawn,
  ];
  return `#!/bin/sh\n# Written by hastack lab up: powers on ${host.name}.\nexec /bin/sh ${args.map(shellQuote).join(" ")}\n`;
}

/** Quotes one word for /bin/sh. The lab only ever quotes its own paths and names. */
export function shellQuote(word: string): string {
  if (word.includes("'") || word.includes("\n")) {
    throw new HastackError(
      "E_LAB_PATH",
      `Cannot use ${JSON.stringify(word)} in a lab script: it contains a quote`,
    );
  }
  return `'${word}'`;
}

/** ipmi_sim splits its chassis_control command at spaces, with no quoting: allow only plain words. */
export function plainWord(word: string): string {
  if (!/^[A-Za-z0-9._/@+-]+$/.test(word)) {
    throw new HastackError(
      "E_LAB_PATH",
      `Cannot use ${JSON.stringify(word)} in the BMC configuration: use a lab directory path without spaces or special characters`,
    );
  }
  return word;
}
