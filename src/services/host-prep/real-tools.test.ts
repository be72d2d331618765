import { beforeAll, describe, expect, it } from "vitest";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

describe("chrony.conf in the real chronyd -p (chrony 4.6)", () => {
  it("parses for a controller (serves, peers) and for a compute (follows the controllers)", async () => {
    const topology = exampleTopology("lab");
    const secrets = generatedSecrets(topology);
    const files = ["ctl1", "cmp1"].map((h) =>
      placed(renderedFile(topology, h, "/etc/chrony/chrony.conf"), secrets, `/tmp/c/${h}.conf`),
    );
    const result = await runInImage(
      `for h in ctl1 cmp1; do echo "== $h"; chronyd -p -f /tmp/c/$h.conf; echo "rc=$?"; done
       printf 'bogusdirective 1\\n' > /tmp/bad.conf; chronyd -p -f /tmp/bad.conf; echo "bad=$?"`,
      { files: files.map((f) => ({ ...f, owner: "root:root" })) },
    );
    const [ctl = "", cmp = ""] = result.stdout.split("== cmp1");
    expect(ctl).toContain("rc=0");
    expect(ctl).toContain("allow 10.20.0.0/24");
    expect(ctl).toContain("peer 10.20.0.12 iburst");
    expect(cmp).toContain("rc=0");
    expect(cmp).toContain("server 10.20.0.11 iburst");
    expect(cmp).not.toContain("pool");
    expect(result.stdout).toMatch(/bad=[1-9]/);
  });
});
