import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { HastackError } from "../util/errors.ts";
import { NETNS_PATH } from "./network.ts";
import { labDir } from "./paths.ts";

/** True when this process already runs in the lab's network namespace. */
export async function inLabNamespace(): Promise<boolean> {
  try {
    const [self, lab] = await Promise.all([fs.stat("/proc/self/ns/net"), fs.stat(NETNS_PATH)]);
    return self.ino === lab.ino && self.dev === lab.dev;
  } catch {
    return false;
  }
}

/**
 * When `inventoryPath` is the lab's inventory and this process is outside the lab namespace,
 * runs this same command again inside it, forwards its exit code and never returns. Otherwise
 * returns at once. So `hastack deploy /var/lib/hastack/lab/inventory.yaml` just works.
 */
export async function enterLabNamespaceIfNeeded(inventoryPath: string): Promise<void> {
  if (!isLabPath(inventoryPath)) return;
  if (await inLabNamespace()) return;
  try {
    await fs.access(NETNS_PATH);
  } catch (error) {
    throw new HastackError(
      "E_LAB_DOWN",
      `Cannot reach the lab: its network namespace ${NETNS_PATH} does not exist`,
      {
        cause: error,
        hint: "run `hastack lab up` first",
      },
    );
  }
  // nsenter --net (not `ip netns exec`): it switches only the network namespace and keeps mounts shared.
  const args = [`--net=${NETNS_PATH}`, "--", process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn("nsenter", args, { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  const code = await new Promise<number>((resolve) => {
    child.on("error", () => resolve(127));
    child.on("close", (c, signal) => resolve(c ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
  process.exit(code);
}

function isLabPath(inventoryPath: string): boolean {
  const dir = path.resolve(labDir());
  const file = path.resolve(inventoryPath);
  return file.startsWith(`${dir}${path.sep}`);
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}
