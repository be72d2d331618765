import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import { HastackError } from "../util/errors.ts";
import { NETNS_PATH } from "./network.ts";

// Moves the shell into each cgroup given before "--", then becomes the command after it
// (nsenter, which becomes the daemon: one PID all the way, inside the lab's cgroup and netns).
const ENTER_AND_EXEC =
  'while [ "$1" != -- ]; do mkdir -p "$1" && echo $$ > "$1/cgroup.procs" || exit 1; shift; done; shift; exec "$@"';

/**
 * Starts a long-running lab process detached from this CLI, in its own cgroups and inside the lab
 * namespace, with its output appended to `logFile`. Returns its PID.
 */
export async function spawnDaemon(
  cgroups: string[],
  cmd: string,
  args: string[],
  logFile: string,
): Promise<number> {
  const log = await fs.open(logFile, "a");
  try {
    const child = spawn(
      "/bin/sh",
      ["-c", ENTER_AND_EXEC, "sh", ...cgroups, "--", "nsenter", `--net=${NETNS_PATH}`, "--", cmd, ...args],
      { detached: true, stdio: ["ignore", log.fd, log.fd] },
    );
    const pid = child.pid;
    if (pid === undefined)
      throw new HastackError("E_LAB_SPAWN", `Cannot start ${cmd}: no process was created`);
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}
