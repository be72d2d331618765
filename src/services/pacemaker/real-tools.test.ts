import { beforeAll, describe, expect, it } from "vitest";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";
import type { Topology } from "../../topology/types.ts";
import { CIB_PATH } from "./index.ts";

/** corosync -t and crm_verify on one controller's files, plus a broken copy of each in the same container. */
async function verify(topology: Topology) {
  const secrets = generatedSecrets(topology);
  const files = ["/etc/corosync/corosync.conf", "/etc/corosync/authkey", CIB_PATH].map((path) =>
    placed(renderedFile(topology, topology.bootstrap, path), secrets),
  );
  const result = await runInImage(
    `corosync -t; echo "corosync=$?"
     crm_verify --xml-file ${CIB_PATH} -V; echo "crm_verify=$?"
     # Proof the checks bite: an unknown cipher, and a colocation with a resource that does not exist.
     sed -i 's/crypto_cipher: aes256/crypto_cipher: rot13/' /etc/corosync/corosync.conf
     corosync -t; echo "bad-corosync=$?"
     sed -i 's/with-rsc="haproxy-clone"/with-rsc="no-such-resource"/; s/value="stop"/value="ignore-me"/' ${CIB_PATH}
     crm_verify --xml-file ${CIB_PATH}; echo "bad-crm_verify=$?"`,
    // corosync -t looks for the local node in the nodelist by address.
    { files, hostname: topology.bootstrap, addresses: [bootstrapIp(topology)] },
  );
  return { ...result, secrets };
}

function bootstrapIp(topology: Topology): string {
  return topology.hosts.find((h) => h.name === topology.bootstrap)?.ip ?? "";
}

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

describe("corosync.conf and the CIB in the real tools (corosync 3.1, Pacemaker 3.0)", () => {
  it("accepts the lab's 3-controller cluster and rejects broken copies", async () => {
    const lab = exampleTopology("lab");
    // Throttling off in practice (see cluster.ts): the property is one crm_verify must accept.
    expect(renderedFile(lab, "ctl1", CIB_PATH).text).toContain('name="load-threshold" value="1000%"');
    // A starting node's wait for a DC (see cluster.ts): accepted with its unit.
    expect(renderedFile(lab, "ctl1", CIB_PATH).text).toContain('name="dc-deadtime" value="5s"');
    // The engine starts after HAProxy when both start (instance-ha/index.ts): crm_verify accepts it.
    expect(renderedFile(lab, "ctl1", CIB_PATH).text).toContain(
      '<rsc_order id="haproxy-then-hastack-engine" first="haproxy-clone" first-action="start" then="hastack-engine" then-action="start" kind="Optional"/>',
    );
    const result = await verify(lab);
    expect(result.stdout).toContain("corosync=0");
    expect(result.stdout).toContain("crm_verify=0");
    expect(result.stdout).toMatch(/bad-corosync=[1-9]/);
    expect(result.stderr).toContain("Invalid cipher type");
    expect(result.stdout).toMatch(/bad-crm_verify=[1-9]/);
  });

  it("accepts the 9-node runbook topology and a 2-controller waiver (two_node)", async () => {
    const nine = await verify(exampleTopology("runbook-9-node"));
    expect(nine.stdout).toContain("corosync=0");
    expect(nine.stdout).toContain("crm_verify=0");
    const two = exampleTopology("lab", (inv) => {
      delete inv.hosts.ctl3;
      inv.waivers = { controller_count: "two controllers in this test: fencing decides" };
    });
    expect(renderedFile(two, "ctl1", "/etc/corosync/corosync.conf").text).toContain("two_node: 1");
    const result = await verify(two);
    expect(result.stdout).toContain("corosync=0");
    expect(result.stdout).toContain("crm_verify=0");
  });
});
