import { beforeAll, describe, expect, it } from "vitest";
import { exampleTopology, placed, renderedFile, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

/**
 * Debian's uwsgi init scripts bind `--http-socket :PORT` (every address), which would take the
 * port HAProxy needs on the VIP. The /etc/default file hastack renders replaces those arguments:
 * started by the package's own init script, the API must listen on the management address only,
 * with the worker count we asked for (not the ini's 8).
 */
describe("an OpenStack API under Debian's own uwsgi init script", () => {
  it("cinder-api binds the management address only, with 2 workers", async () => {
    // A stand-in: Cinder is declared today, so render as if it were implemented.
    const registry = withOpenStackImplemented();
    const topology = exampleTopology("lab", undefined, registry);
    const file = placed(renderedFile(topology, "ctl1", "/etc/default/cinder-api", registry), {});
    const r = await runInImage(
      `mkdir -p /var/lock/cinder /var/log/cinder && chown cinder /var/lock/cinder /var/log/cinder
       runuser -u cinder -- /etc/init.d/cinder-api systemd-start > /tmp/start.log 2>&1 &
       for i in $(seq 1 120); do ss -ltn | grep -q ':8776 ' && break; sleep 0.5; done
       sleep 2
       ss -ltnH | awk '{print $4}' | grep ':8776$'
       echo "uwsgi=$(pgrep -c -f 'uwsgi_python3 --http-socket')"`,
      { files: [{ ...file, owner: "root:root" }], addresses: ["10.20.0.11"], timeoutMs: 120_000 },
    );
    const listeners = r.stdout.split("\n").filter((l) => l.endsWith(":8776"));
    expect(listeners).toEqual(["10.20.0.11:8776"]);
    // The master and two workers.
    expect(r.stdout).toContain("uwsgi=3");
  });
});
