import fs from "node:fs/promises";
import path from "node:path";
import type { Component } from "../services/types.ts";
import { HastackError } from "../util/errors.ts";
import { bmcRunning, ensureBmc, powerControl, powerStatus, writeBmcConfig } from "./bmc.ts";
import { cgroupLayout } from "./cgroups.ts";
import { hostDir, powerOnScript, prepareHost } from "./host.ts";
import { bmcPassword, ensureBmcSecrets, ensureKeys, writeFileAtomic } from "./identity.ts";
import { ensureImage } from "./image.ts";
import { renderInventory } from "./inventory.ts";
import { ensureNetwork } from "./network.ts";
import { labDir, labInventoryPath } from "./paths.ts";
import { type LabPlan, type LabSize, planLab } from "./plan.ts";
import { requireRoot, requireTools } from "./preflight.ts";
import { waitForSsh } from "./ssh.ts";
import { readState, writeState } from "./state.ts";

export interface UpOptions {
  size: LabSize;
  /** Every service's components: what the image must hold. */
  components: readonly Component[];
  onProgress?: (line: string) => void;
  /** How long to wait for every host's sshd. */
  sshTimeoutMs?: number;
  /** The inventory it writes enables the whole cloud (Nova and Neutron too): `npm run lab`. */
  cloud?: boolean;
}

export interface UpResult {
  plan: LabPlan;
  /** True when the lab was already up and nothing had to change. */
  alreadyUp: boolean;
  bootMs: Record<string, number>;
}

/** Brings the lab up, or finishes a half-done `up`; a lab that is fully up is left alone. */
export async function labUp(opts: UpOptions): Promise<UpResult> {
  const progress = opts.onProgress ?? (() => {});
  requireRoot();
  await requireTools();
  const previous = await readState();
  if (previous && !sameSize(previous.size, opts.size)) {
    const s = previous.size;
    throw new HastackError(
      "E_LAB_SIZE",
      `Cannot bring the lab up with a different size: it is up with ${s.controllers} controllers, ${s.computes} computes and ${s.storage} storage hosts`,
      { hint: "run `hastack lab down` first" },
    );
  }
  const plan = planLab(opts.size);
  const rootfs = await ensureImage({ components: opts.components, onProgress: progress });
  await fs.mkdir(labDir(), { recursive: true, mode: 0o700 });
  await ensureKeys(plan);
  const secrets = await ensureBmcSecrets(plan);
  await writeFileAtomic(labInventoryPath(), renderInventory(plan, { cloud: opts.cloud ?? false }), 0o644);
  await ensureNetwork(plan);
  await installScripts();
  const layout = await cgroupLayout();
  await writeState({
    size: opts.size,
    image: rootfs,
    started: previous?.started ?? new Date().toISOString(),
  });

  let alreadyUp = previous !== undefined;
  const started = Date.now();
  const booting: string[] = [];
  for (const host of plan.hosts) {
    await prepareHost(plan, host, rootfs);
    const password = bmcPassword(secrets, host.name);
    await writeBmcConfig(layout, host, password);
    await fs.writeFile(path.join(hostDir(host.name), "power-on"), powerOnScript(layout, host), {
      mode: 0o755,
    });
    if (!(await bmcRunning(layout, host.name))) alreadyUp = false;
    await ensureBmc(layout, host, password);
    if ((await powerStatus(host, password)) === "off") {
      alreadyUp = false;
      // Through the BMC, the same path a fence agent takes.
      await powerControl(host, password, "on");
      booting.push(host.name);
    }
  }
  if (booting.length > 0) progress(`powered on ${booting.join(" ")}; waiting for SSH`);
  const bootMs: Record<string, number> = {};
  const waits = plan.hosts.map(async (host) => {
    const ms = await waitForSsh(host, opts.sshTimeoutMs ?? 120_000);
    if (ms === undefined) {
      throw new HastackError(
        "E_LAB_BOOT",
        `Cannot reach ${host.name} over SSH at ${host.addresses.management}`,
        {
          hint: `see ${path.join(hostDir(host.name), "console.log")}`,
        },
      );
    }
    bootMs[host.name] = Date.now() - started;
  });
  await Promise.all(waits);
  return { plan, alreadyUp, bootMs };
}

function sameSize(a: LabSize, b: LabSize): boolean {
  return a.controllers === b.controllers && a.computes === b.computes && a.storage === b.storage;
}

/** Copies the shell helpers the BMCs run into the lab dir, so a running lab does not depend on the checkout. */
async function installScripts(): Promise<void> {
  const bin = path.join(labDir(), "bin");
  await fs.mkdir(bin, { recursive: true });
  for (const name of ["host-runner.sh", "bmc-chassis.sh"]) {
    await fs.copyFile(new URL(name, import.meta.url), path.join(bin, name));
    await fs.chmod(path.join(bin, name), 0o755);
  }
}
