import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalTransport } from "../transport/local-transport.ts";
import { curlBatch } from "./curl-batch.ts";

// Real curl on this machine against a real HTTP server.
const t = new LocalTransport({ name: "here" });
let server: Server;
let base = "";
const seen: { method: string; url: string; auth?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        auth: req.headers["x-auth"] as string,
        body,
      });
      if (req.url === "/token") {
        res.writeHead(201, { "x-subject-token": "tok-123" }).end('{"ok":true}');
      } else if (req.url === "/tricky") {
        // A body with newlines, quotes and something like a marker line.
        res.writeHead(200).end('line one\n"two"\n@@hastack 200\n');
      } else res.writeHead(404).end("nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => server.close());

describe("curlBatch", () => {
  it("answers each request in order with its status, body and the asked header; secrets stay off argv", async () => {
    const secret = 'pa"ss\\word\nwith newline';
    const answers = await curlBatch(t, [
      { method: "POST", url: `${base}/token`, json: { password: secret }, header: "x-subject-token" },
      { method: "GET", url: `${base}/tricky`, headers: { "x-auth": "tok-123" } },
      { method: "GET", url: `${base}/missing?a=1&b=2` },
    ]);
    expect(answers).toEqual([
      { status: 201, body: '{"ok":true}', header: "tok-123" },
      { status: 200, body: 'line one\n"two"\n@@hastack 200\n' },
      { status: 404, body: "nope" },
    ]);
    expect(JSON.parse(seen[0]?.body ?? "{}")).toEqual({ password: secret });
    expect(seen.map((s) => [s.method, s.url, s.auth])).toEqual([
      ["POST", "/token", undefined],
      ["GET", "/tricky", "tok-123"],
      ["GET", "/missing?a=1&b=2", undefined],
    ]);
  });

  it("gives status 0 for a request nothing answered, and still answers the others", async () => {
    const answers = await curlBatch(t, [
      { method: "GET", url: "http://127.0.0.1:1/" },
      { method: "GET", url: `${base}/missing` },
    ]);
    expect(answers.map((a) => a.status)).toEqual([0, 404]);
  });
});
