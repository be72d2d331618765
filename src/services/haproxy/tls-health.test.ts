import { describe, expect, it } from "vitest";
import { exampleTopology } from "../../testing/fixtures.ts";
import { services } from "../registry.ts";
import { allFrontends } from "./index.ts";
import { publicTlsProbes, verdict } from "./tls-health.ts";

// The probe's script runs for real on the lab (status there); here, what it makes of the answers.
const now = new Date("2026-12-03T12:00:00Z");
const cert = "cert Jan  4 12:00:00 2028 GMT";

describe("haproxy.public-tls", () => {
  it("asks every TLS listener of the lab's site (not the metadata API) and no one without TLS", () => {
    const lab = exampleTopology("lab");
    const [probe] = publicTlsProbes(lab, allFrontends(lab, services));
    expect(probe?.id).toBe("public-tls");
    const names = allFrontends(lab, services)
      .filter((f) => f.publicBind?.tls)
      .map((f) => f.name);
    expect(names).toContain("keystone_api");
    expect(names).toContain("horizon");
    expect(names).not.toContain("nova_metadata");
    expect(names).not.toContain("galera");
    const off = exampleTopology("lab", (inv) => {
      inv.tls = { public: "off" };
    });
    expect(publicTlsProbes(off, allFrontends(off, services))).toEqual([]);
  });

  it("is ok when every listener answers over verified HTTPS, and says how long the certificate lasts", () => {
    const r = verdict(`${cert}\nkeystone_api 300 0 \nhorizon 302 0 \n`, "ctl1", 2, now);
    expect(r.state).toBe("ok");
    expect(r.summary).toBe(
      "2 listeners over HTTPS from ctl1, verified against the site CA; certificate valid 397 more days",
    );
  });

  it("is down when a certificate does not verify or a listener has no backend, naming it", () => {
    const r = verdict(
      `${cert}\nkeystone_api 000 60 curl: (60) SSL certificate problem: unable to get local issuer certificate\nglance_api 503 0 \n`,
      "ctl2",
      3,
      now,
    );
    expect(r.state).toBe("down");
    expect(r.summary).toContain("0/3 over HTTPS from ctl2");
    expect(r.summary).toContain("keystone_api: curl exit 60: curl: (60) SSL certificate problem");
    expect(r.summary).toContain("glance_api: HTTP 503");
    expect(r.summary).toContain("1 listener(s) not asked");
  });

  it("is degraded with the way to renew when under 30 days are left", () => {
    const r = verdict("cert Dec 20 12:00:00 2026 GMT\nkeystone_api 300 0 \n", "ctl1", 1, now);
    expect(r.state).toBe("degraded");
    expect(r.summary).toContain("certificate valid 17 more days: renew it");
  });
});
