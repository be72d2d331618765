/**
 * The engine daemon as it runs on a controller: main.ts started as a process by the pinned Node,
 * reading its config and secrets files, writing its history to a real MariaDB (Debian 13's, in a
 * throwaway container: store-test-db.ts), and hearing real signed heartbeats over UDP on two
 * loopback addresses. Keystone is an address where nothing listens (the boundary we cannot
 * reach here): the engine must then see the control plane down and refuse to fence. The lab's
 * e2e (instance-ha/engine.e2e.test.ts) runs it with Nova, Ceph and the BMCs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeHeartbeat, hostKey } from "../heartbeat.ts";
import { buildReceiver } from "../native/build.ts";
import { startTestDb, TEST_PASSWORD, type TestDb } from "../store-test-db.ts";
import { heartbeat } from "../test-world.ts";
import type { EngineConfigInput } from "./config.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const SECRET = "ab".repeat(32);
let db: TestDb;
let dir = "";

beforeAll(async () => {
  db = await startTestDb();
  dir = await mkdtemp(join(tmpdir(), "hastack-engine-daemon-"));
}, 300_000);
afterAll(async () => {
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A free UDP port on an address (bound, then closed: nothing else here takes it meanwhile). */
async function freePort(address: string): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind({ address, port: 0 }, r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Running {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

function run(config: string, secrets: string): Running {
  const child = spawn(process.execPath, [MAIN, "--config", config, "--secrets", secrets], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, lines, exit };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("hastack-engine as a process", () => {
  // The shipped native receiver, and one that cannot start (a controller of another architecture
  // than the deploying machine's): the engine then receives with Node itself, and says so.
  it.each([
    ["the native receiver", "native"],
    ["Node's, the native one missing", "missing"],
  ] as const)(
    "hears a compute through %s, sees it go silent, fails it, and refuses to fence it with Nova unreachable; SIGTERM stops it with exit 0",
    {
      timeout: 180_000,
    },
    async (_, receiver) => {
      const { database, raw } = await db.fresh();
      const program = receiver === "native" ? (await buildReceiver()).path : join(dir, "no-such-hb-recv");
      const ports = { management: await freePort("127.0.0.1"), storage: await freePort("127.0.0.2") };
      const config: EngineConfigInput = {
        site: "lab",
        node: "ctl-test",
        receiver_program: program,
        listen: [
          { network: "management", address: "127.0.0.1", port: ports.management },
          { network: "storage", address: "127.0.0.2", port: ports.storage },
        ],
        computes: [
          { name: "cmp1", addresses: { management: "127.0.0.1", storage: "127.0.0.2" } },
          { name: "cmp2", addresses: { management: "127.0.0.3", storage: "127.0.0.4" } },
        ],
        keystone: { auth_url: "http://127.0.0.1:9/v3", username: "hastack_ha", project: "service" },
        store: { host: "unused", port: 3306, socket_path: db.socketPath, user: "hastack_ha", database },
        disks_on_ceph: false,
        engine: { silence_ms: 1100, fail_after: 2, probe_timeout_ms: 1000 },
        api: { address: "127.0.0.1", port: await freePort("127.0.0.1") },
      };
      await writeFile(join(dir, "engine.json"), JSON.stringify(config));
      await writeFile(
        join(dir, "secrets.json"),
        JSON.stringify({ site_secret: SECRET, keystone_password: "x", store_password: TEST_PASSWORD }),
      );
      const engine = run(join(dir, "engine.json"), join(dir, "secrets.json"));
      let stopBeating = () => {};
      try {
        await until("the engine to start", () => engine.lines.find((l) => l.msg === "engine active"));
        const said = engine.lines.map((l) => String(l.msg));
        if (receiver === "native") expect(said).toContain("native heartbeat receiver started");
        else
          expect(said).toContain(
            "the native heartbeat receiver did not start: Node receives the heartbeats itself",
          );

        // Two computes' agents, each over both networks from the addresses the engine expects.
        // cmp2 beats throughout: with one of two silent, the valve (more than half) stays open.
        const agents = await Promise.all(
          (["cmp1", "cmp2"] as const).map(async (host, i) => {
            const key = hostKey(SECRET, "lab", host);
            const sockets = await Promise.all(
              (["management", "storage"] as const).map(async (network, j) => {
                const socket = createSocket("udp4");
                await new Promise<void>((r) =>
                  socket.bind({ address: `127.0.0.${1 + 2 * i + j}`, port: 0 }, r),
                );
                return { network, socket };
              }),
            );
            return { host, key, sockets, beating: true };
          }),
        );
        let seq = 0;
        const beat = setInterval(() => {
          seq++;
          for (const a of agents) {
            if (!a.beating) continue;
            for (const { network, socket } of a.sockets)
              socket.send(
                encodeHeartbeat(
                  heartbeat({ host: a.host, network, seq, sentAt: Date.now(), epoch: 7 }),
                  a.key,
                ),
                ports[network],
                network === "management" ? "127.0.0.1" : "127.0.0.2",
              );
          }
        }, 250);
        await new Promise((r) => setTimeout(r, 3000));
        (agents[0] as { beating: boolean }).beating = false;
        stopBeating = () => {
          clearInterval(beat);
          for (const a of agents) for (const { socket } of a.sockets) socket.close();
        };

        // Silent now: suspect, then failed, then the fence gate refuses (Nova is unreachable).
        const [rows] = await until("the refused fence in the history", async () => {
          const [r] = await raw.query(
            "SELECT kind, detail FROM ha_events WHERE host = 'cmp1' AND kind = 'gate' ORDER BY id",
          );
          return (r as unknown[]).length > 0 ? [r as { kind: string; detail: string }[]] : undefined;
        });
        expect(rows[0]?.detail).toMatch(/control plane down/);
        const [hosts] = await raw.query("SELECT host, phase FROM ha_hosts");
        expect(hosts).toEqual([{ host: "cmp1", phase: "failed" }]);
        const [fences] = await raw.query("SELECT id FROM ha_events WHERE kind = 'fence'");
        expect(fences).toEqual([]);
        // Heard before it went silent: its first transition is out of healthy, and cmp2 has none.
        const [phases] = await raw.query(
          "SELECT host, phase_from AS f, phase_to AS t FROM ha_events WHERE kind = 'phase' ORDER BY id",
        );
        expect(phases).toEqual([
          { host: "cmp1", f: "healthy", t: "suspect" },
          { host: "cmp1", f: "suspect", t: "failed" },
        ]);
        // The same, as the REST API and /metrics of the running engine tell it.
        const api = `http://127.0.0.1:${config.api.port}`;
        const one = (await (await fetch(`${api}/v1/hosts/cmp1`)).json()) as Record<string, unknown>;
        expect(JSON.stringify(one)).toMatch(/"phase":"failed"/);
        const metrics = await (await fetch(`${api}/metrics`)).text();
        expect(metrics).toMatch(/^hastack_ha_hosts\{phase="failed"\} 1$/m);
        expect(metrics).toMatch(/^hastack_ha_gate_blocks_total\{[^}]*gate="control-plane"[^}]*\} 1$/m);
        const accepted = Number(/^hastack_ha_heartbeats_accepted_total (\d+)$/m.exec(metrics)?.[1]);
        // 3 s of two computes on two networks at 4 Hz, and cmp2 since: whichever receiver, every one counted.
        expect(accepted).toBeGreaterThanOrEqual(40);
      } finally {
        stopBeating();
        engine.child.kill("SIGTERM");
      }
      expect(await engine.exit).toBe(0);
    },
  );

  it("a config it cannot use: exit 78 and the file named, no secret printed", {
    timeout: 60_000,
  }, async () => {
    await writeFile(join(dir, "bad.json"), JSON.stringify({ site: "lab" }));
    await writeFile(join(dir, "s.json"), '{"site_secret": "hunter2-hunter2-hunter2-hunter2-hunter2"');
    const engine = run(join(dir, "bad.json"), join(dir, "s.json"));
    expect(await engine.exit).toBe(78);
    const error = engine.lines.find((l) => l.code === "E_HA_ENGINE_CONFIG");
    expect(error?.msg).toMatch(/bad\.json/);
    const secrets = run(join(dir, "engine.json"), join(dir, "s.json"));
    expect(await secrets.exit).toBe(78);
    const said = JSON.stringify(secrets.lines);
    expect(said).toMatch(/s\.json: not valid JSON/);
    expect(said).not.toContain("hunter2");
  });
});
