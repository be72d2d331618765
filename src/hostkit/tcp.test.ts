import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalTransport } from "../transport/local-transport.ts";
import { tcpExchange, tcpOpen } from "./tcp.ts";

// Real socat on this machine (scripts/bootstrap.sh installs it) against a real TCP server.
const t = new LocalTransport({ name: "here" });
let server: Server;
let port = 0;
const received: string[] = [];

beforeAll(async () => {
  // A line protocol like memcached's: answers each line, closes on "quit".
  server = createServer((socket) => {
    let buffer = "";
    socket.on("data", (d) => {
      buffer += d.toString();
      for (let i = buffer.indexOf("\r\n"); i >= 0; i = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        received.push(line);
        if (line === "quit") socket.end();
        else socket.write(`GOT ${line}\r\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("tcp", () => {
  it("sends a request and reads the whole reply", async () => {
    const r = await tcpExchange(t, "127.0.0.1", port, "version\r\nstats\r\nquit\r\n");
    expect(r).toEqual({ connected: true, reply: "GOT version\r\nGOT stats\r\n", error: "" });
    expect(received).toContain("quit");
  });

  it("says why when nothing listens", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await tcpExchange(t, "127.0.0.1", closed, "version\r\n");
    expect(r.connected).toBe(false);
    expect(r.error).toMatch(/refused/i);
    expect(await tcpOpen(t, "127.0.0.1", closed)).toBe(false);
    expect(await tcpOpen(t, "127.0.0.1", port)).toBe(true);
  });

  it("gives up on an address that never answers within the connect timeout", async () => {
    const started = performance.now();
    // TEST-NET-1 (RFC 5737): routed nowhere; the SYN goes unanswered or is rejected at once.
    const r = await tcpExchange(t, "192.0.2.1", 9, "", { connectSeconds: 1, replySeconds: 0 });
    expect(r.connected).toBe(false);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
