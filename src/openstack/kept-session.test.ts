/**
 * The kept session over real HTTP. Keystone and Nova are played by a node:http server here (a
 * fake at the boundary: a real Keystone runs only in the lab, where the engine e2e uses this
 * session); it answers the token API as Keystone 2025.1 does and counts the logins.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keptSession } from "./kept-session.ts";

let server: Server;
let base = "";
let logins = 0;
let valid = new Set<string>();
let keystoneUp = true;
let withPlacement = true;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/v3/auth/tokens" && req.method === "POST") {
      if (!keystoneUp) {
        res.writeHead(503).end("down");
        return;
      }
      logins++;
      const token = `tok-${logins}`;
      valid.add(token);
      const catalog = [
        { type: "compute", endpoints: [{ interface: "internal", url: `${base}/compute/v2.1` }] },
        ...(withPlacement
          ? [{ type: "placement", endpoints: [{ interface: "internal", url: `${base}/placement` }] }]
          : []),
      ];
      res
        .writeHead(201, { "x-subject-token": token, "content-type": "application/json" })
        .end(JSON.stringify({ token: { project: { id: "p1" }, catalog } }));
      return;
    }
    const ok = valid.has(String(req.headers["x-auth-token"]));
    res.writeHead(ok ? 200 : 401).end(ok ? `{"by":"${req.headers["x-auth-token"]}"}` : "{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const creds = () => ({
  authUrl: `${base}/v3`,
  username: "hastack_ha",
  project: "service",
  password: "pw",
  interface: "internal" as const,
});

describe("keptSession", () => {
  it("logs in once for many calls, again when the token is old, and again on a 401", async () => {
    logins = 0;
    valid = new Set();
    let now = 0;
    const s = keptSession(creds(), { maxAgeMs: 1000, clock: () => now });
    expect(() => s.url("compute")).toThrow(/no login .* has succeeded yet/);
    const answers = await Promise.all([1, 2, 3].map(() => s.call("GET", `${base}/x`)));
    expect(logins).toBe(1);
    expect(answers.map((a) => a.body)).toEqual(Array(3).fill('{"by":"tok-1"}'));
    expect(s.url("compute")).toBe(`${base}/compute/v2.1`);

    now = 1500;
    expect((await s.call("GET", `${base}/x`)).body).toBe('{"by":"tok-2"}');
    expect(logins).toBe(2);

    // Revoked behind its back: the 401 is answered by a new login and the call made again.
    valid.delete("tok-2");
    const again = await s.call("GET", `${base}/x`);
    expect(again.status).toBe(200);
    expect(again.body).toBe('{"by":"tok-3"}');
  });

  it("a failed login is not kept: the next call logs in again", async () => {
    logins = 0;
    keystoneUp = false;
    const s = keptSession(creds());
    await expect(s.call("GET", `${base}/x`)).rejects.toThrow(/HTTP 503/);
    keystoneUp = true;
    expect((await s.call("GET", `${base}/x`)).status).toBe(200);
    expect(logins).toBe(1);
  });

  it("a catalogue without the endpoint asked for is replaced by a new login, at most once per retry time", async () => {
    logins = 0;
    withPlacement = false;
    let now = 0;
    const s = keptSession(creds(), { clock: () => now, catalogRetryMs: 10_000 });
    await s.ready();
    expect(() => s.url("placement")).toThrow(/Cannot find the internal placement endpoint/);
    // Registered by the deploy meanwhile; within the retry time the same login is kept.
    withPlacement = true;
    now = 5_000;
    await s.ready();
    expect(logins).toBe(1);
    expect(() => s.url("placement")).toThrow(/placement endpoint/);
    now = 16_000;
    await s.ready();
    expect(logins).toBe(2);
    expect(s.url("placement")).toBe(`${base}/placement`);
    // A catalogue that had every endpoint asked for is kept until the token is old.
    now = 60_000;
    await s.ready();
    expect(logins).toBe(2);
  });
});
