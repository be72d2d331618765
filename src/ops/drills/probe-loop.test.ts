import { connect, createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { measureDowntime, startProbeLoop } from "./probe-loop.ts";

function listen(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((s) => {
      s.on("error", () => undefined);
      s.end("ok");
    });
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function tcpProbe(port: number): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, timeout: 500 });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", reject);
      socket.once("timeout", () => {
        socket.destroy();
        reject(new Error("timeout"));
      });
    });
}

describe("probe loop", () => {
  it("measures a real 600 ms outage of a TCP service to within a few probe intervals", async () => {
    let server = await listen(0);
    const port = (server.address() as { port: number }).port;
    const loop = startProbeLoop(tcpProbe(port), 50);
    await new Promise((r) => setTimeout(r, 300));
    const faultAt = loop.now();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise((r) => setTimeout(r, 600));
    server = await listen(port);
    expect(await loop.waitForRecovery(faultAt, 3, 5000)).toBe(true);
    const attempts = await loop.stop();
    server.close();
    const d = measureDowntime(attempts, faultAt);
    expect(d.failed).toBeGreaterThan(5);
    expect(d.downtimeMs).toBeGreaterThan(450);
    expect(d.downtimeMs).toBeLessThan(900);
    expect(d.errors[0]).toMatch(/ECONNREFUSED/);
  });

  it("recovers without a failure only when told no outage is expected", async () => {
    const server = await listen(0);
    const loop = startProbeLoop(tcpProbe((server.address() as { port: number }).port), 50);
    const since = loop.now();
    // A fault that should cause an outage and caused none is not a recovery: it times out.
    expect(await loop.waitForRecovery(since, 3, 600)).toBe(false);
    expect(await loop.waitForRecovery(since, 3, 2000, false)).toBe(true);
    await loop.stop();
    server.close();
  });

  it("reports zero downtime when nothing failed", () => {
    const attempts = [0, 50, 100].map((at) => ({ at, ok: true, ms: 1 }));
    expect(measureDowntime(attempts, 0).downtimeMs).toBe(0);
  });
});
