/**
 * Issue #11's `controller-replace` drill on the lab's base site: a quiet controller (neither the
 * VIP's holder nor the SQL writer) powered off as a dead disk ends it, fenced, its disk erased
 * and the host reinstalled from the bare image, then `hastack deploy`. Every cluster must end
 * exactly the controllers (no old etcd member, RabbitMQ node, quorum queue replica short, OVN
 * server or Pacemaker node left), no write the SQL probe was told was committed may be lost, and
 * the site must end healthy. How long it took is a speed figure (docs/tuning.md).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type LabHandle, useLab } from "../../lab/testing.ts";
import { hastackSync } from "../../testing/lab-cli.ts";

let lab: LabHandle;

describe("controller-replace on the lab", () => {
  beforeAll(async () => {
    lab = await useLab();
    // A lab just powered on has its cluster stack off (E19): the deploy brings the site up.
    expect(hastackSync(["deploy", "-i", lab.inventoryPath, "--quiet"], 1_200_000).code).toBe(0);
  }, 1_300_000);

  it("brings an erased controller back with hastack deploy, leaves no old member anywhere, loses no write", {
    timeout: 1_200_000,
  }, () => {
    const drill = hastackSync(
      ["drill", "controller-replace", "-i", lab.inventoryPath, "--healthy-timeout", "300"],
      1_140_000,
    );
    console.log(drill.out);
    expect(drill.out).toMatch(/reinstalled empty, answering SSH/);
    expect(drill.out).toMatch(/hastack deploy done/);
    expect(drill.out).toMatch(/every cluster is exactly the controllers: no member left behind/);
    expect(drill.out).not.toMatch(/left behind: |acknowledged write\(s\) lost|hastack deploy \S+ failed/);
    expect(drill.out).toMatch(/verdict: (passed|slow) \(/);
    expect([0, 3]).toContain(drill.code);
  });
});
