import fs from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
// Test support composes the site like the CLI does: the registry is passed to the lab here.
import { services } from "../services/registry.ts";
import { powerControl, powerStatus } from "./bmc.ts";
import type { RunResult } from "./exec.ts";
import { freeze, freezeBmc, heal } from "./faults.ts";
import { bmcPassword, readSecrets } from "./identity.ts";
import { labUp } from "./lab.ts";
import { labInventoryPath } from "./paths.ts";
import { DEFAULT_SIZE, findHost, type LabHost, type LabPlan, planLab } from "./plan.ts";
import { sshRun, waitForSsh } from "./ssh.ts";
import { readState } from "./state.ts";
import { labStatus } from "./status.ts";

/** What an end-to-end test gets from useLab(). */
export interface LabHandle {
  plan: LabPlan;
  inventoryPath: string;
  host(name: string): LabHost;
  /** Runs a command on a host over SSH (from the lab namespace); `input` goes to its stdin. */
  /** A command on a lab host over SSH; `timeoutMs` defaults to 30 s. */
  ssh(name: string, command: string[], input?: string, timeoutMs?: number): Promise<RunResult>;
  /** The BMC password of a host: for tests that talk IPMI themselves. Never print it. */
  bmcPassword(name: string): Promise<string>;
  power(name: string, action: "on" | "off" | "cycle" | "reset" | "soft"): Promise<void>;
  powerState(name: string): Promise<"on" | "off">;
  waitForSsh(name: string, timeoutMs: number): Promise<number | undefined>;
  /** Hangs (true) or thaws a host's BMC: IPMI to it times out while hung. */
  hangBmc(name: string, hung: boolean): Promise<void>;
}

/**
 * The lab for end-to-end tests: brings the default lab up when it is not up (building the image
 * on the first run), and reuses it when it is, so e2e files share one lab. Any host that is off
 * (a test that powered it off and failed) is powered on again.
 */
export async function useLab(onProgress?: (line: string) => void): Promise<LabHandle> {
  const state = await readState();
  const size = state?.size ?? DEFAULT_SIZE;
  const status = await labStatus(state ? planLab(size) : undefined);
  const healthy =
    status.hosts.length > 0 && status.hosts.every((h) => h.power === "on" && h.bmc === "running");
  if (!healthy) await labUp({ size, components: services.flatMap((s) => s.components ?? []), onProgress });
  const plan = planLab(size);
  // Undo what a failed test may have left: cut links and frozen hosts.
  for (const h of plan.hosts) {
    await heal(h);
    await freeze(h, false).catch(() => {});
    await freezeBmc(h, false).catch(() => {});
  }
  const secrets = await readSecrets();
  const host = (name: string) => findHost(plan, name);
  return {
    plan,
    inventoryPath: labInventoryPath(),
    host,
    ssh: (name, command, input, timeoutMs) =>
      sshRun(host(name), command, { input, ...(timeoutMs ? { timeoutMs } : {}) }),
    bmcPassword: async (name) => bmcPassword(secrets, name),
    power: (name, action) => powerControl(host(name), bmcPassword(secrets, name), action),
    powerState: (name) => powerStatus(host(name), bmcPassword(secrets, name)),
    waitForSsh: (name, timeoutMs) => waitForSsh(host(name), timeoutMs),
    hangBmc: (name, hung) => freezeBmc(host(name), hung),
  };
}

/** A copy of the lab inventory beside it (so it still runs in the lab namespace), edited. */
export async function inventoryCopy(
  lab: LabHandle,
  name: string,
  edit: (doc: Record<string, unknown>) => void,
) {
  const src = path.dirname(lab.inventoryPath);
  const dir = path.join(src, `e2e-${name}`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { mode: 0o700 });
  for (const f of ["inventory.secrets.yaml", "id_ed25519", "known_hosts"])
    await fs.copyFile(path.join(src, f), path.join(dir, f));
  const doc = YAML.parse(await fs.readFile(lab.inventoryPath, "utf8")) as Record<string, unknown>;
  edit(doc);
  await fs.writeFile(path.join(dir, "inventory.yaml"), YAML.stringify(doc));
  return { dir, inventory: path.join(dir, "inventory.yaml") };
}

/** The lab inventory with Nova and Neutron enabled too (the whole cloud), as `e2e-cloud`. */
export function cloudInventoryCopy(lab: LabHandle) {
  return inventoryCopy(lab, "cloud", (doc) => {
    const openstack = (doc.services as { openstack: { enabled: string[] } }).openstack;
    openstack.enabled = [...new Set([...openstack.enabled, "nova", "neutron"])];
  });
}
