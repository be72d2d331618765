/**
 * The daemon's control-plane view over real HTTP. Keystone, Nova and Placement are played by a
 * node:http server (a fake at the boundary: the real ones run only in the lab, where the engine
 * e2e drives this code); it answers the token API as Keystone 2025.1 does, and refuses the login
 * until the engine's user "exists", as on a first deploy that starts the engine before the
 * Keystone step has made its user.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../store.ts";
import { EngineConfig } from "./config.ts";
import { daemonDeps } from "./deps.ts";

let server: Server;
let base = "";
let userExists = false;
let logins = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/v3/auth/tokens" && req.method === "POST") {
      logins++;
      if (!userExists) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"code":401}}');
        return;
      }
      const catalog = ["compute", "placement"].map((type) => ({
        type,
        endpoints: [{ interface: "internal", url: `${base}/${type}` }],
      }));
      res
        .writeHead(201, { "x-subject-token": "tok", "content-type": "application/json" })
        .end(JSON.stringify({ token: { project: { id: "p1" }, catalog } }));
      return;
    }
    if (req.headers["x-auth-token"] !== "tok") {
      res.writeHead(401).end("{}");
      return;
    }
    if (req.url === "/compute/os-services") {
      const services = ["nova-scheduler", "nova-conductor"].map((binary) => ({
        binary,
        state: "up",
        status: "enabled",
      }));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ services }));
      return;
    }
    res.writeHead(req.url === "/placement/" ? 200 : 404).end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function deps() {
  const config = EngineConfig.parse({
    site: "lab",
    node: "ctl1",
    listen: [{ network: "management", address: "127.0.0.1", port: 4950 }],
    computes: [],
    keystone: { auth_url: `${base}/v3`, username: "hastack_ha", project: "service" },
    store: { host: "127.0.0.1", port: 3306, user: "hastack_ha", database: "hastack_ha" },
    disks_on_ceph: true,
    api: { address: "127.0.0.1", port: 4952 },
  });
  const store = { hosts: async () => [] } as unknown as Store;
  const log = { info() {}, warn() {}, error() {} };
  return daemonDeps({
    config,
    secrets: {
      site_secret: "s".repeat(32),
      keystone_password: "pw",
      store_password: "pw",
      bmc_passwords: {},
    },
    receiver: { hosts: new Map() },
    store,
    log,
  });
}

describe("the engine daemon's control-plane view", () => {
  it("logs in when asked, after a first login was refused, instead of seeing the control plane down for good", async () => {
    userExists = false;
    logins = 0;
    const d = deps();
    await expect(d.ready()).rejects.toThrow(/401/);
    const before = await d.controlPlane();
    expect(before.novaApi).toBe(false);
    expect(before.placement).toBe(false);
    expect(before.database).toBe(true);

    userExists = true; // the deploy's Keystone step has made the user
    const after = await d.controlPlane();
    expect(after).toEqual({
      novaApi: true,
      novaScheduler: true,
      novaConductor: true,
      placement: true,
      database: true,
    });
    // One login per attempt, and none more once it held (both probes shared the one login).
    const held = logins;
    await d.controlPlane();
    expect(logins).toBe(held);
  });
});
