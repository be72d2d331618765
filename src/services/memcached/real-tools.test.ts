import { beforeAll, describe, expect, it } from "vitest";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

describe("memcached.conf in a real memcached 1.6", () => {
  it("starts through Debian's wrapper, listens on the management address only, TCP only", async () => {
    const topology = exampleTopology("lab");
    const file = placed(renderedFile(topology, "ctl1", "/etc/memcached.conf"), generatedSecrets(topology));
    const result = await runInImage(
      `mkdir -p /var/run/memcached && chown memcache /var/run/memcached
       /usr/share/memcached/scripts/start-memcached /etc/memcached.conf /var/run/memcached/memcached.pid
       for i in $(seq 1 40); do ss -ltn | grep -q ':11211' && break; sleep 0.1; done
       ss -ltnu | grep 11211
       exec 3<>/dev/tcp/10.20.0.11/11211; printf 'stats settings\\r\\nquit\\r\\n' >&3; cat <&3 | grep -E 'STAT (maxconns|maxbytes|udpport|tcpport) '`,
      { files: [file], addresses: ["10.20.0.11"] },
    );
    expect(result.stdout).toMatch(/LISTEN.*10\.20\.0\.11:11211/);
    expect(result.stdout).not.toMatch(/0\.0\.0\.0:11211|\*:11211|^udp/m);
    expect(result.stdout).toContain("STAT maxconns 8192");
    expect(result.stdout).toContain(`STAT maxbytes ${1024 * 1024 * 1024}`);
    expect(result.stdout).toContain("STAT udpport 0");
  });
});
