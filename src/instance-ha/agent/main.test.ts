import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createVerifier, hostKey } from "../heartbeat.ts";
import { type Receiver, startReceiver } from "../receiver.ts";
import { renderAgentKey } from "./config.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const SECRET = "main-test-site-secret";

const open: { receiver?: Receiver; child?: ChildProcess; dir?: string } = {};
afterEach(async () => {
  if (open.child && open.child.exitCode === null) open.child.kill("SIGKILL");
  await open.receiver?.close();
  if (open.dir) rmSync(open.dir, { recursive: true, force: true });
  open.receiver = undefined;
  open.child = undefined;
  open.dir = undefined;
});

/** The agent as systemd runs it: its own process, its config file, real probes (they fail here). */
function run(config: object) {
  const dir = mkdtempSync(join(tmpdir(), "hastack-agent-main-"));
  open.dir = dir;
  writeFileSync(join(dir, "agent.key"), renderAgentKey(hostKey(SECRET, "lab", "cmp1")));
  writeFileSync(
    join(dir, "agent.json"),
    JSON.stringify({ key_file: join(dir, "agent.key"), epoch_file: join(dir, "epoch"), ...config }),
  );
  const child = spawn(process.execPath, [MAIN, "--config", join(dir, "agent.json")], { stdio: "pipe" });
  open.child = child;
  let stdout = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exit, stdout: () => stdout };
}

describe("instance-ha/agent main (a real process)", () => {
  it("heartbeats to a real receiver until SIGTERM, then stops cleanly with exit code 0", async () => {
    const receiver = await startReceiver({
      binds: [
        { network: "management", address: "127.0.0.1", port: 0 },
        { network: "storage", address: "127.0.0.1", port: 0 },
      ],
      verifier: createVerifier({ site: "lab", siteSecret: SECRET, hosts: new Map([["cmp1", {}]]) }),
    });
    open.receiver = receiver;
    const [management, storage] = receiver.addresses().map((b) => b.port);
    const agent = run({
      site: "lab",
      host: "cmp1",
      interval_ms: 200,
      networks: {
        management: { source: "127.0.0.1", targets: [{ address: "127.0.0.1", port: management }] },
        storage: { source: "127.0.0.1", targets: [{ address: "127.0.0.1", port: storage }] },
      },
      probes: { nova_compute_units: ["hastack-test-nova-compute.service"] },
    });

    await vi.waitFor(
      () => {
        expect(receiver.hosts.get("cmp1")?.management?.heartbeat.seq).toBeGreaterThanOrEqual(1);
        expect(receiver.hosts.get("cmp1")?.storage).toBeDefined();
      },
      { timeout: 20_000, interval: 50 },
    );
    // Real probes on this machine: no nova-compute unit, no libvirt. Said, not fatal.
    expect(receiver.hosts.get("cmp1")?.management?.heartbeat).toMatchObject({
      novaCompute: false,
      libvirt: false,
    });

    agent.child.kill("SIGTERM");
    expect(await agent.exit).toBe(0);
    const lines = agent
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.map((l) => l.msg)).toContain("instance-HA agent started");
    expect(lines.at(-1)?.msg).toBe("instance-HA agent stopped");
    expect(agent.stdout()).not.toContain(hostKey(SECRET, "lab", "cmp1").toString("hex"));
  }, 60_000);

  it("a config it cannot use: the error on its log and exit code 78 (EX_CONFIG)", async () => {
    const agent = run({ site: "lab", host: "cmp1" });
    expect(await agent.exit).toBe(78);
    expect(agent.stdout()).toContain("Cannot start the instance-HA agent");
    expect(agent.stdout()).toContain("networks: Invalid input: expected object, received undefined");
  }, 60_000);
});
