import { describe, expect, it } from "vitest";
import { smokeRun } from "./steps.ts";
import { domainSources } from "./volume.ts";

describe("the smoke's cleanups", () => {
  it("run in reverse, except those the run dropped after undoing them itself", async () => {
    const ran: string[] = [];
    const run = smokeRun(() => {});
    run.onCleanup("network", async () => void ran.push("network"));
    const dropVolume = run.onCleanup("volume", async () => void ran.push("volume"));
    run.onCleanup("attachment", async () => void ran.push("attachment"));
    dropVolume();
    dropVolume();
    expect(run.pending()).toEqual(["attachment", "network"]);
    await run.cleanup();
    expect(ran).toEqual(["attachment", "network"]);
    expect(run.results.map((r) => [r.name, r.verdict])).toEqual([
      ["clean up attachment", "ok"],
      ["clean up network", "ok"],
    ]);
  });
});

describe("virsh domblklist", () => {
  it("gives each disk's source, the RBD images of a Ceph-backed guest included", () => {
    // virsh's layout (a header, a rule, a line per disk); the volume line as the smoke found it on cmp2.
    const out =
      " Target   Source\n------------------------------------------------------------------\n vda      vms/a36d96cd-cadb-4fbe-be9e-4c7a3251ead9_disk\n vdb      volumes/volume-163e36e9-e0c3-4be1-bec6-ee6430eb2ecb\n hdd      -\n";
    expect(domainSources(out)).toEqual([
      "vms/a36d96cd-cadb-4fbe-be9e-4c7a3251ead9_disk",
      "volumes/volume-163e36e9-e0c3-4be1-bec6-ee6430eb2ecb",
    ]);
  });
});
