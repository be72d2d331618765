import { beforeAll, describe, expect, it } from "vitest";
import {
  exampleTopology,
  generatedSecrets,
  placed,
  renderedFile,
  withOpenStackImplemented,
} from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";

const PATH = "/etc/haproxy/haproxy.cfg";

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

// The OpenStack APIs are declared, not implemented, so the real registry gives them no listener;
// rendering them as implemented checks what they will contribute (every API and Horizon on TLS).
const everyApi = withOpenStackImplemented();

describe("haproxy.cfg in the real haproxy -c (HAProxy 3.0)", () => {
  it("accepts every controller's file of both examples (and Horizon over TLS), rejects a broken one", async () => {
    const lab = exampleTopology("lab");
    const nine = exampleTopology("runbook-9-node", (inv) => {
      inv.services = { ...inv.services, horizon: { tls: true } };
    });
    const files = [
      ...lab.roles.controller.map((h) =>
        placed(renderedFile(lab, h, PATH), generatedSecrets(lab), `/tmp/cfg/lab-${h}.cfg`),
      ),
      placed(renderedFile(nine, nine.bootstrap, PATH, everyApi), generatedSecrets(nine), "/tmp/cfg/nine.cfg"),
    ];
    expect(renderedFile(nine, nine.bootstrap, PATH, everyApi).text).toContain("listen horizon_tls");
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
