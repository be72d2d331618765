import { beforeAll, describe, expect, it } from "vitest";
import {
  exampleTopology,
  generatedSecrets,
  placed,
  renderedFile,
  siteTlsSecrets,
  withOpenStackImplemented,
} from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";
import { PUBLIC_PEM } from "./config.ts";

const PATH = "/etc/haproxy/haproxy.cfg";

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

// The OpenStack APIs are declared, not implemented, so the real registry gives them no listener;
// rendering them as implemented checks what they will contribute (every API, and TLS on the public VIP).
const everyApi = withOpenStackImplemented();

describe("haproxy.cfg in the real haproxy -c (HAProxy 3.0)", () => {
  it("accepts every controller's file of both examples (TLS on the public VIP), rejects a broken one", async () => {
    const lab = exampleTopology("lab");
    const nine = exampleTopology("runbook-9-node", (inv) => {
      inv.vips = { ...inv.vips, public: "172.16.181.31", public_hostname: "cloud.example.org" };
      inv.tls = { public: "site-ca" };
    });
    const labSecrets = { ...generatedSecrets(lab), ...(await siteTlsSecrets(lab)) };
    const nineSecrets = { ...generatedSecrets(nine), ...(await siteTlsSecrets(nine)) };
    const nineCfg = renderedFile(nine, nine.bootstrap, PATH, everyApi);
    const files = [
      ...lab.roles.controller.map((h) =>
        placed(renderedFile(lab, h, PATH), labSecrets, `/tmp/cfg/lab-${h}.cfg`),
      ),
      placed(nineCfg, nineSecrets, "/tmp/cfg/nine.cfg"),
      // One certificate at the path every file names: haproxy -c loads it (any valid pair will do).
      placed(renderedFile(lab, lab.bootstrap, PUBLIC_PEM), labSecrets),
    ];
    expect(nineCfg.text).toContain("bind 172.16.181.31:443 ssl crt /etc/haproxy/certs/public.pem");
    // Plain HTTP on the public VIP only redirects to https (Horizon), never on the internal VIP.
    expect(nineCfg.text).toContain("bind 172.16.181.31:80\n");
    expect(nineCfg.text).toContain(
      "http-request redirect scheme https code 301 if { dst 172.16.181.31 } !{ ssl_fc }",
    );
    expect(nineCfg.text).not.toMatch(/bind 172\.16\.181\.31:8775/);
    // A request in flight to a dead controller is cut when HAProxy marks it down, not left for
    // `timeout server`; Glance's uploads are not (they outlive a check failing under load).
    const section = (name: string) => nineCfg.text.split(`listen ${name}\n`)[1]?.split("\nlisten ")[0] ?? "";
    expect(section("neutron_api")).toMatch(/server \S+ .* on-marked-down shutdown-sessions$/m);
    expect(section("nova_api")).toMatch(/server \S+ .* on-marked-down shutdown-sessions$/m);
    expect(section("glance_api")).toMatch(/server /);
    expect(section("glance_api")).not.toContain("shutdown-sessions");
    const result = await runInImage(
      `for f in /tmp/cfg/*.cfg; do haproxy -c -f "$f" > /dev/null; echo "$(basename "$f")=$?"; done
       cp /tmp/cfg/nine.cfg /tmp/bad.cfg; echo "    balance nosuchalgo" >> /tmp/bad.cfg
       haproxy -c -f /tmp/bad.cfg > /dev/null 2>&1; echo "bad=$?"`,
      { files: files.map((f) => ({ ...f, owner: "root:root" })) },
    );
    for (const h of lab.roles.controller) expect(result.stdout).toContain(`lab-${h}.cfg=0`);
    expect(result.stdout).toContain("nine.cfg=0");
    expect(result.stdout).toMatch(/bad=[1-9]/);
  });
});
