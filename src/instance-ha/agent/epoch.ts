/**
 * @module
 * The agent's epoch and the host's boot id, read once per process start.
 *
 * heartbeat.ts: sequence numbers restart at 0 with each epoch, and the engine drops a packet of
 * an epoch older than the last it accepted. So an epoch must grow with every start, even when
 * the clock went back (a reboot before NTP synced): it is the wall clock, raised past the last
 * epoch used, which is kept in a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface EpochResult {
  epoch: number;
  /** Why the last epoch could not be read or kept: worth a warning, never a reason not to start. */
  problem?: string;
}

/** This start's epoch: max(now, last + 1), and kept for the next start. */
export function nextEpoch(file: string, now: number): EpochResult {
  let last = 0;
  let problem: string | undefined;
  try {
    const text = readFileSync(file, "utf8").trim();
    const value = Number(text);
    if (Number.isSafeInteger(value) && value >= 0) last = value;
    else problem = `${file} does not hold an epoch; starting from the clock`;
  } catch (error) {
    // No file: the first start on this host.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") problem = `cannot read ${file}: ${String(error)}`;
  }
  const epoch = Math.max(Math.floor(now), last + 1);
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Write then rename: a crash mid-write leaves the old epoch, never half a number.
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, `${epoch}\n`);
    renameSync(temporary, file);
  } catch (error) {
    // Started all the same: the clock alone is right unless it also goes back before the next start.
    problem = `cannot keep the epoch in ${file}: ${String(error)}`;
  }
  return problem === undefined ? { epoch } : { epoch, problem };
}

/** The kernel's boot id (a uuid per boot): the engine tells a rebooted host by it. */
export function readBootId(file: string): { bootId: string; problem?: string } {
  try {
    const bootId = readFileSync(file, "utf8").trim().slice(0, 64);
    if (bootId !== "") return { bootId };
    return { bootId: "unknown", problem: `${file} is empty` };
  } catch (error) {
    // "unknown" is still a boot id: a host that comes back with it again is not taken as rebooted.
    return { bootId: "unknown", problem: `cannot read ${file}: ${String(error)}` };
  }
}
