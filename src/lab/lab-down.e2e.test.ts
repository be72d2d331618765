/**
 * `lab down` leaves nothing behind. Its own file, run after every other e2e file
 * (vitest.config.ts's LAST): the lab it tears down would cost whichever file came next a boot
 * and a deploy from scratch (~8 min in CI).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cgroupLayout, LAB_CGROUP } from "./cgroups.ts";
import { run } from "./exec.ts";
import { mountsUnder } from "./mounts.ts";
import { NETNS_PATH } from "./network.ts";
import { labDir } from "./paths.ts";
import { useLab } from "./testing.ts";

const CLI = path.resolve(import.meta.dirname, "../cli/main.ts");

function hastack(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
}

beforeAll(async () => {
  // Up, so there is something to tear down when this file runs alone.
  await useLab((line) => process.stderr.write(`${line}\n`));
});

describe("lab down", () => {
  it("lab down leaves no process, mount, cgroup, bridge or namespace behind", async () => {
    const down = hastack("lab", "down");
    expect(down.status).toBe(0);
    await expect(fs.access(NETNS_PATH)).rejects.toThrow();
    expect(await mountsUnder(labDir())).toEqual([]);
    const layout = await cgroupLayout();
    await expect(fs.access(path.join(layout.unified, LAB_CGROUP))).rejects.toThrow();
    if (layout.named) await expect(fs.access(path.join(layout.named, LAB_CGROUP))).rejects.toThrow();
    const links = await run("ip", ["-o", "link", "show"]);
    expect(links.stdout).not.toMatch(/br-mgmt|br-stor|br-prov|br-bmc|ctl1-mgmt/);
    const propagate = await fs.readdir("/run/systemd/nspawn/propagate").catch(() => []);
    expect(propagate.filter((n) => n.startsWith("hastack-lab-"))).toEqual([]);
    const ps = await run("ps", ["-eo", "args"]);
    expect(ps.stdout).not.toMatch(/hastack-lab-|ipmi_sim -c \/.*\/bmc\//);
  });
});
