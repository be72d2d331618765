import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AgentConfig } from "./config.ts";
import { type CommandRunner, observe, parseVirshUuids, spawnRunner, tcpProbe } from "./observe.ts";

const A = "0b6f1a52-6c8e-4c1e-9a57-1f0d3c2b4a10";
const B = "7d0e8c41-2a3b-4c5d-8e9f-a0b1c2d3e4f5";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listening(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: one that was bound a moment ago. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function probes(overrides: Record<string, unknown> = {}) {
  return AgentConfig.shape.probes.parse({ command_timeout_ms: 2000, connect_timeout_ms: 300, ...overrides });
}

/**
 * A stub for the two tools this machine lacks or cannot use: virsh is not installed here, and
 * systemctl is, but without systemd as PID 1 it answers nothing. The real-command cases below
 * run them as they are.
 */
function stub(
  answers: Record<string, { code: number | null; stdout: string; failure?: string }>,
): CommandRunner {
  return async (argv) => {
    const answer = answers[argv[0] as string];
    if (!answer) throw new Error(`unexpected command ${argv.join(" ")}`);
    return answer;
  };
}

describe("instance-ha/agent observe", () => {
  it("all well: units active, libvirt answering with its VMs, a monitor accepting (stubbed tools)", async () => {
    const port = await listening();
    const run = stub({
      systemctl: { code: 0, stdout: "active\nactive\n" },
      virsh: { code: 0, stdout: `${B}\n${A}\n\n` },
    });
    const o = await observe(probes({ storage: [{ address: "127.0.0.1", port }] }), {
      run,
      connect: tcpProbe(),
    });
    expect(o).toEqual({
      novaCompute: true,
      libvirt: true,
      storageReachable: true,
      vms: [A, B],
      problems: [],
    });
  });

  it("names what is down, and a libvirt socket up with a daemon that does not answer is libvirt down", async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (argv) => {
      calls.push(argv.join(" "));
      // systemctl's answer when one of two units is down: the states in order, exit code 3.
      if (argv[0] === "systemctl") return { code: 3, stdout: "failed\nactive\n", failure: "exit code 3" };
      return { code: null, stdout: "", failure: "timed out after 2000 ms" };
    };
    const o = await observe(probes(), { run, connect: tcpProbe() });
    expect(o).toEqual({
      novaCompute: false,
      libvirt: false,
      storageReachable: true, // no storage address to probe
      vms: [],
      problems: ["nova-compute.service failed", "virsh list: timed out after 2000 ms"],
    });
    // One systemctl for every unit: one process a second, not one per group.
    expect(calls.sort()).toEqual([
      "systemctl is-active nova-compute.service libvirtd.socket",
      "virsh -c qemu:///system list --uuid",
    ]);
  });

  it("a libvirt socket down is libvirt down even when virsh answers; nova-compute is judged apart", async () => {
    const run = stub({
      systemctl: { code: 3, stdout: "active\ninactive\n", failure: "exit code 3" },
      virsh: { code: 0, stdout: `${A}\n` },
    });
    const o = await observe(probes(), { run, connect: tcpProbe() });
    expect(o).toMatchObject({
      novaCompute: true,
      libvirt: false,
      vms: [A],
      problems: ["libvirtd.socket inactive"],
    });
  });

  it("storage unreachable when no monitor accepts; reachable when any one does", async () => {
    const [up, down1, down2] = [await listening(), await closedPort(), await closedPort()];
    const run = stub({
      systemctl: { code: 0, stdout: "active\nactive\n" },
      virsh: { code: 0, stdout: "\n" },
    });
    const none = await observe(
      probes({
        storage: [
          { address: "127.0.0.1", port: down1 },
          { address: "127.0.0.1", port: down2 },
        ],
      }),
      { run, connect: tcpProbe() },
    );
    expect(none.storageReachable).toBe(false);
    expect(none.problems).toEqual([
      `no storage address answered within 300 ms: 127.0.0.1:${down1}, 127.0.0.1:${down2}`,
    ]);
    const one = await observe(
      probes({
        storage: [
          { address: "127.0.0.1", port: down1 },
          { address: "127.0.0.1", port: up },
        ],
      }),
      { run, connect: tcpProbe() },
    );
    expect(one.storageReachable).toBe(true);
  });

  it("a connect that never answers is bounded by its timeout", async () => {
    // 192.0.2.1 (TEST-NET-1) is nobody's: the SYN goes unanswered, or the route is refused at once.
    const started = performance.now();
    expect(await tcpProbe()({ address: "192.0.2.1", port: 3300 }, 200)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("refuses virsh output that is not one uuid a line", () => {
    expect(parseVirshUuids(`${A}\n\n`).data).toEqual([A]);
    expect(parseVirshUuids(" Id   Name   State\n").success).toBe(false);
  });

  it("real commands: a missing tool, a failing one and a hung one are signals, never throws", async () => {
    const run = spawnRunner();
    expect(await run(["hastack-no-such-tool"], 1000)).toMatchObject({ code: null, failure: "ENOENT" });
    expect(await run(["sh", "-c", "echo broken >&2; exit 4"], 1000)).toMatchObject({
      code: 4,
      failure: "broken",
    });
    const started = performance.now();
    expect(await run(["sleep", "5"], 150)).toMatchObject({ code: null, failure: "timed out after 150 ms" });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await run(["sh", "-c", "printf 'active\\ninactive\\n'"], 1000)).toEqual({
      code: 0,
      stdout: "active\ninactive\n",
    });
  });

  it("real commands on this machine: whatever systemctl and virsh do here, observe resolves with both down", async () => {
    // No unit here is nova-compute, and virsh is usually missing (ENOENT): both must read as down.
    let hasVirsh = true;
    try {
      execFileSync("sh", ["-c", "command -v virsh"]);
    } catch {
      hasVirsh = false;
    }
    const o = await observe(probes({ nova_compute_units: ["hastack-test-nova-compute.service"] }), {
      run: spawnRunner(),
      connect: tcpProbe(),
    });
    expect(o.novaCompute).toBe(false);
    expect(o.libvirt).toBe(false);
    expect(o.problems.length).toBeGreaterThanOrEqual(2);
    if (!hasVirsh) expect(o.problems).toContain("virsh list: ENOENT");
  });
});
