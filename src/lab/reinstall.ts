/**
 * @module
 * `hastack lab reinstall <host>`: a lab host whose disk is gone, then reinstalled. The host is
 * powered off through its BMC (a pulled plug, as a dead disk usually ends), its overlay (its
 * disk: every file it wrote over the image) is removed, and it boots again from the bare image
 * with the same name, addresses and identity. Like a host reinstalled from the site's
 * provisioning, it keeps its SSH host key (a site pins host keys, and a reinstall that restores
 * them is what operators do; one that does not is a known_hosts change, not hastack's to make).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { HastackError } from "../util/errors.ts";
import { powerControl, powerStatus } from "./bmc.ts";
import { cgroupLayout, cgroupPids, memberCgroups } from "./cgroups.ts";
import { hostDir, hostRoot, prepareHost } from "./host.ts";
import { bmcPassword, readSecrets } from "./identity.ts";
import { removeTree, unmountUnder } from "./mounts.ts";
import { findHost } from "./plan.ts";
import { requireRoot } from "./preflight.ts";
import { waitForSsh } from "./ssh.ts";
import { readState, requirePlan } from "./state.ts";

export interface ReinstallResult {
  host: string;
  /** Bytes the host had written over the image, gone with its overlay. */
  erasedBytes: number;
  /** From the power-off to SSH answering on the empty host. */
  ms: number;
}

export async function reinstallHost(
  name: string,
  progress: (line: string) => void = () => {},
): Promise<ReinstallResult> {
  requireRoot();
  const plan = await requirePlan();
  const state = await readState();
  const host = findHost(plan, name);
  if (!state)
    throw new HastackError("E_LAB_DOWN", `Cannot reinstall ${name}: the lab is not up`, {
      hint: "run `hastack lab up` first",
    });
  const started = Date.now();
  const password = bmcPassword(await readSecrets(), name);
  if ((await powerStatus(host, password)) !== "off") {
    await powerControl(host, password, "off");
    progress(`${name}: powered off through its BMC`);
  }
  await waitNoProcesses(name);
  const dir = hostDir(name);
  const erasedBytes = await treeBytes(path.join(dir, "upper"));
  await unmountUnder(hostRoot(name));
  for (const sub of ["upper", "work"]) await removeTree(path.join(dir, sub));
  progress(`${name}: disk erased (${(erasedBytes / 1024 / 1024).toFixed(0)} MiB written over the image)`);
  await prepareHost(plan, host, state.image);
  await powerControl(host, password, "on");
  progress(`${name}: powered on from the bare image; waiting for SSH`);
  const up = await waitForSsh(host, 120_000);
  if (up === undefined)
    throw new HastackError("E_LAB_BOOT", `Cannot reach ${name} over SSH after its reinstall`, {
      hint: `see ${path.join(dir, "console.log")}`,
    });
  return { host: name, erasedBytes, ms: Date.now() - started };
}

/** A powered-off host's processes may take a moment to go; its disk is not touched before. */
async function waitNoProcesses(name: string): Promise<void> {
  const [unified] = memberCgroups(await cgroupLayout(), name);
  const deadline = Date.now() + 15_000;
  while ((await cgroupPids(unified as string)).length > 0) {
    if (Date.now() > deadline)
      throw new HastackError(
        "E_LAB_BMC",
        `Cannot reinstall ${name}: processes still run 15 s after power off`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const st = await fs.lstat(path.join(e.parentPath, e.name)).catch(() => undefined);
    total += st?.size ?? 0;
  }
  return total;
}
