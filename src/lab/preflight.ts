import { HastackError } from "../util/errors.ts";
import { run } from "./exec.ts";

/** Programs the lab runs, and the Debian package that ships each. */
export const REQUIRED_TOOLS: Record<string, string> = {
  "systemd-nspawn": "systemd-container",
  mmdebstrap: "mmdebstrap",
  ipmi_sim: "openipmi",
  ipmitool: "ipmitool",
  nsenter: "util-linux",
  flock: "util-linux",
  ip: "iproute2",
  "ssh-keygen": "openssh-client",
  ssh: "openssh-client",
};

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new HastackError("E_LAB_ROOT", "Cannot run the lab: it needs root (namespaces, mounts, cgroups)", {
      hint: "run it as root, e.g. `sudo npm run lab`",
    });
  }
}

export async function requireTools(): Promise<void> {
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(REQUIRED_TOOLS)) {
    const found = await run("sh", ["-c", 'command -v "$1"', "sh", tool]);
    if (found.code !== 0) missing.push(pkg);
  }
  if (missing.length > 0) {
    const pkgs = [...new Set(missing)].join(" ");
    throw new HastackError("E_LAB_TOOLS", `Cannot run the lab: missing packages ${pkgs}`, {
      hint: `apt-get install ${pkgs} (scripts/lab.sh does this)`,
    });
  }
}
