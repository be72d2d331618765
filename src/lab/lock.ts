import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import { HastackError } from "../util/errors.ts";

/**
 * Takes an exclusive flock(2) on `file`. The lock belongs to our open file description, so the
 * kernel releases it when this process dies: a crashed build never blocks the next one.
 */
export async function lockExclusive(
  file: string,
  onWait: () => void = () => {},
): Promise<() => Promise<void>> {
  const handle = await fs.open(file, "a");
  const waiting = setTimeout(onWait, 1000);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn("flock", ["--exclusive", "3"], { stdio: ["ignore", "ignore", "pipe", handle.fd] });
      child.on("error", reject);
      child.on("close", (c) => resolve(c ?? 1));
    });
    if (code !== 0)
      throw new HastackError("E_LAB_LOCK", `Cannot lock ${file}: flock exited with code ${code}`);
  } catch (error) {
    await handle.close();
    throw error instanceof HastackError
      ? error
      : new HastackError("E_LAB_LOCK", `Cannot lock ${file}: ${String(error)}`, { cause: error });
  } finally {
    clearTimeout(waiting);
  }
  return async () => {
    await handle.close();
  };
}
