import { beforeAll, describe, expect, it } from "vitest";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";

const PATH = "/etc/keepalived/keepalived.conf";

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

describe("keepalived.conf in the real keepalived -t (keepalived 2.3)", () => {
  it("accepts every controller's file when vip_manager is keepalived; the CIB then has no VIP", async () => {
    const topology = exampleTopology("lab", (inv) => {
      inv.vip_manager = "keepalived";
    });
    const secrets = generatedSecrets(topology);
    expect(renderedFile(topology, "ctl1", "/etc/hastack/cib.xml").text).not.toContain("IPaddr2");
    const files = topology.roles.controller.map((h) =>
      placed(renderedFile(topology, h, PATH), secrets, `/tmp/k/${h}.conf`),
    );
    const result = await runInImage(
      // keepalived wants the real VRRP interface to exist (and not be loopback).
      `ip link add mgmt0 type veth peer name mgmt0-peer && ip link set mgmt0 up
       for f in /tmp/k/*.conf; do keepalived -t -f "$f"; echo "$(basename "$f")=$?"; done
       # Proof the check bites: a VRRP router id must be 1..255.
       sed 's/virtual_router_id .*/virtual_router_id 300/' /tmp/k/ctl1.conf > /tmp/bad.conf
       keepalived -t -f /tmp/bad.conf; echo "bad=$?"
       grep -c 'advert_int 0.2' /tmp/k/ctl1.conf`,
      { files: files.map((f) => ({ ...f, owner: "root:root" })) },
    );
    for (const h of topology.roles.controller) expect(result.stdout).toContain(`${h}.conf=0`);
    expect(result.stdout).toMatch(/bad=[1-9]/);
    expect(result.stderr).toMatch(/number '300' outside range/);
    // Sub-second adverts (VRRPv3) are accepted, not rounded to whole seconds.
    expect(result.stderr).not.toMatch(/advert_int/i);
  });
});
