/**
 * @module
 * For tests that need systemd itself (a unit started, stopped and restarted by the code under
 * test, as on a site): a lab-image container booted with its own systemd (`--boot`), reached
 * through nsenter like `startContainer`'s, on a private network. `linkContainers` joins two of
 * them by a veth pair, so that daemons talk between them (Galera replication, an SST) on the
 * addresses the site's rendered files name. `runInImage` (real-tools.ts) runs one script in a
 * container without systemd; this is its booted sibling: the same image, overlay and cgroups.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NsenterTransport } from "../services/openstack/test-container.ts";
import { HastackError } from "../util/errors.ts";
import {
  baseNspawnArgs,
  containerCgroups,
  removeContainerCgroups,
  spawnNspawn,
  toolRoot,
} from "./real-tools.ts";

export interface BootedContainer {
  name: string;
  transport: NsenterTransport;
  /** The container's init (systemd) as the test process sees it. */
  pid: number;
  /** The console's output so far (boot messages), for a failed test's message. */
  console(): string;
  /** Pulls the plug (cgroup.kill: nothing of it survives) and removes its cgroups. */
  stop(): Promise<void>;
}

const BOOT_MS = 120_000;

/** Boots the lab image with systemd as init; resolves once `systemctl is-system-running` settles. */
export async function bootContainer(name: string, hostname = name): Promise<BootedContainer> {
  const root = await toolRoot();
  const machine = `hastack-boot-${randomBytes(4).toString("hex")}`;
  const cgroups = await containerCgroups(machine);
  const args = [
    ...baseNspawnArgs(machine, hostname, root),
    "--boot",
    "--resolv-conf=off",
    "--timezone=off",
    "--link-journal=no",
    "--console=read-only",
  ];
  const child = spawnNspawn(cgroups, args);
  let output = "";
  const keep = (d: Buffer) => {
    output = `${output}${d.toString()}`.slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const stop = async () => {
    await writeFile(`${cgroups[0]}/payload/cgroup.kill`, "1").catch(() => child.kill("SIGKILL"));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    await removeContainerCgroups(cgroups, machine);
  };
  try {
    const pid = await initPid(`${cgroups[0]}/payload`, child, () => output);
    const transport = new NsenterTransport(name, pid);
    await waitForBoot(transport, () => output);
    return { name, transport, pid, console: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The container's init: the process of its payload cgroup that is pid 1 in its own namespace. */
async function initPid(payload: string, child: ChildProcess, output: () => string): Promise<number> {
  const deadline = Date.now() + BOOT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    for (const pid of await cgroupPids(payload)) {
      const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
      if (/^NSpid:\s+\d+\s+1$/m.test(status)) return pid;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new HastackError(
    "E_TEST_CONTAINER",
    `Cannot boot a container: no init appeared: ${output().slice(-2000)}`,
  );
}

async function waitForBoot(t: NsenterTransport, output: () => string): Promise<void> {
  // "degraded" is booted too: the image disables services, and one may fail without a network.
  const deadline = Date.now() + BOOT_MS;
  let last = "";
  while (Date.now() < deadline) {
    const r = await t
      .exec(["systemctl", "is-system-running", "--wait"], { timeoutMs: 60_000 })
      .catch(() => undefined);
    last = r?.stdout.trim() ?? "";
    if (last === "running" || last === "degraded") return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new HastackError(
    "E_TEST_CONTAINER",
    `Cannot boot ${t.name}: systemd says ${JSON.stringify(last)} after ${BOOT_MS / 1000} s: ${output().slice(-2000)}`,
  );
}

/**
 * A veth pair between two booted containers, `eth1` in each with its address (CIDR form): as
 * two hosts on one switch. Only these two containers see the link; it dies with them.
 */
export async function linkContainers(
  a: BootedContainer,
  b: BootedContainer,
  addresses: { a: string; b: string },
): Promise<void> {
  const tag = randomBytes(3).toString("hex");
  const [va, vb] = [`hsa${tag}`, `hsb${tag}`];
  const ip = (argv: string[]) => run(["ip", ...argv]);
  await ip(["link", "add", va, "type", "veth", "peer", "name", vb]);
  await ip(["link", "set", va, "netns", String(a.pid), "name", "eth1"]);
  await ip(["link", "set", vb, "netns", String(b.pid), "name", "eth1"]);
  for (const [c, address] of [
    [a, addresses.a],
    [b, addresses.b],
  ] as const) {
    for (const argv of [
      ["ip", "addr", "add", address, "dev", "eth1"],
      ["ip", "link", "set", "eth1", "up"],
      ["ip", "link", "set", "lo", "up"],
    ]) {
      const r = await c.transport.exec(argv);
      if (r.code !== 0)
        throw new HastackError(
          "E_TEST_CONTAINER",
          `Cannot configure eth1 on ${c.name}: ${argv.join(" ")}: ${r.stderr.trim()}`,
        );
    }
  }
}

function run(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] ?? "", argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve()
        : reject(
            new HastackError(
              "E_TEST_CONTAINER",
              `Cannot run ${argv.join(" ")}: exit code ${code}: ${stderr.trim()}`,
            ),
          ),
    );
  });
}

async function cgroupPids(dir: string): Promise<number[]> {
  const own = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  const pids = own
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map(Number);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) pids.push(...(await cgroupPids(join(dir, e.name))));
  return pids;
}
