import { beforeAll, describe, expect, it } from "vitest";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

/**
 * etcd has no config checker: it is started with the real 3-member /etc/default/etcd as Debian's
 * unit does (EnvironmentFile). A member of a new cluster cannot elect a leader alone, but it
 * parses its settings and binds its URLs; an unknown ETCD_* variable would be reported in its
 * log, which the test also checks.
 */
describe("/etc/default/etcd in a real etcd 3.5", () => {
  it("starts as member ctl1 of the 3-member initial cluster on the management address", async () => {
    const topology = exampleTopology("lab");
    const file = placed(renderedFile(topology, "ctl1", "/etc/default/etcd"), generatedSecrets(topology));
    const result = await runInImage(
      `mkdir -p /var/lib/etcd && chown etcd /var/lib/etcd
       etcd --version | head -1
       set -a; . /etc/default/etcd; set +a
       runuser -u etcd -- etcd > /tmp/etcd.log 2>&1 &
       for i in $(seq 1 50); do [ "$(ss -ltn | grep -cE ':(2379|2380) ')" -ge 3 ] && break; sleep 0.2; done
       ss -ltn | grep -E ':(2379|2380) '
       grep -oE '"(initial-cluster|name|heartbeat-interval|election-timeout)":"[^"]*"' /tmp/etcd.log | sort -u
       echo "unrecognized=$(grep -c 'unrecognized environment variable' /tmp/etcd.log)"`,
      { files: [file], addresses: ["10.20.0.11"], hostname: "ctl1" },
    );
    expect(result.stdout).toMatch(/etcd Version: 3\.5\./);
    expect(result.stdout).toMatch(/10\.20\.0\.11:2380/);
    expect(result.stdout).toMatch(/10\.20\.0\.11:2379/);
    expect(result.stdout).toMatch(/127\.0\.0\.1:2379/);
    expect(result.stdout).toContain(
      '"initial-cluster":"ctl1=http://10.20.0.11:2380,ctl2=http://10.20.0.12:2380,ctl3=http://10.20.0.13:2380"',
    );
    expect(result.stdout).toContain('"name":"ctl1"');
    expect(result.stdout).toContain('"heartbeat-interval":"100ms"');
    expect(result.stdout).toContain('"election-timeout":"1s"');
    expect(result.stdout).toContain("unrecognized=0");
  });
});
