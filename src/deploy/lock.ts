import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { HastackError } from "../util/errors.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One deploy per inventory at a time: two runs interleaving restarts and Galera joins on the same
 * hosts is how clusters get broken. A lock left by a dead process is taken over.
 */
export function acquireDeployLock(stateDir: string, runId: string): () => void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, "deploy.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid} ${runId}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const [pid, holder] = readFileSync(path, "utf8").trim().split(" ");
      if (pid && alive(Number(pid))) {
        throw new HastackError(
          "E_DEPLOY_LOCKED",
          `Cannot deploy: run ${holder ?? "?"} (pid ${pid}) is deploying this inventory`,
          {
            hint: `wait for it to finish; if that process is gone from every machine, remove ${path}`,
          },
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new HastackError("E_DEPLOY_LOCKED", `Cannot take the deploy lock ${path}`);
}
