import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TLS_SECRETS } from "../inventory/site-tls.ts";
import { exampleTopology, siteTlsSecrets } from "../testing/fixtures.ts";
import { login, send } from "./client.ts";

// A real HTTPS server with a certificate from a real site CA (openssl, as `secrets init` makes
// them) for 127.0.0.1, standing for Keystone and Nova on the public VIP: the client's TLS check
// and its Keystone v3 token handling, nothing faked inside the client.
let server: Server;
let base = "";
let tls: Record<string, string>;
const seen: { method: string; url: string; token?: string }[] = [];

beforeAll(async () => {
  tls = await siteTlsSecrets(
    exampleTopology("lab", (inv) => {
      inv.vips = { ...inv.vips, public: "127.0.0.1" };
    }),
  );
  server = createServer({ key: tls[TLS_SECRETS.key], cert: tls[TLS_SECRETS.cert] }, (req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", token: req.headers["x-auth-token"] as string });
    if (req.url === "/v3/auth/tokens") {
      res.writeHead(201, { "x-subject-token": "tok-1", "content-type": "application/json" });
      res.end(
        JSON.stringify({
          token: {
            project: { id: "p1" },
            catalog: [
              {
                type: "compute",
                endpoints: [
                  { interface: "internal", url: "http://10.20.0.10:8774/v2.1" },
                  { interface: "public", url: `${base}/v2.1/` },
                ],
              },
            ],
          },
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"servers": []}');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("the OpenStack REST client", () => {
  it("logs in over TLS checked against the site CA, and calls the public endpoint with the token", async () => {
    const ca = tls[TLS_SECRETS.caCert] as string;
    const session = await login({
      authUrl: `${base}/v3`,
      username: "demo",
      project: "demo",
      password: "pw",
      ca,
    });
    expect(session.projectId).toBe("p1");
    expect(session.url("compute")).toBe(`${base}/v2.1`);
    const answer = await session.call("GET", `${session.url("compute")}/servers`);
    expect(answer.status).toBe(200);
    expect(seen.at(-1)).toEqual({ method: "GET", url: "/v2.1/servers", token: "tok-1" });
    expect(() => session.url("volumev3")).toThrow(/Cannot find the public volumev3 endpoint/);
  });

  it("refuses the certificate without the site CA (no silent -k)", async () => {
    await expect(send("GET", `${base}/`)).rejects.toThrow(/self-signed|unable to (get|verify)|certificate/i);
  });
});
