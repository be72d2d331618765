/**
 * Issue #11's `power-loss` drill on the lab's base site: every controller's power cut at once
 * through its BMC, 10 s off, all on, then `hastack recover --yes` in rounds (the cluster stack
 * is off at boot by design). The drill's SQL write probe through the VIP must lose no write it
 * was told was committed, recover must neither refuse nor fail, and the site must end healthy.
 * How long it took is a speed figure (the verdict's "slow" is allowed here; docs/tuning.md).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type LabHandle, useLab } from "../../lab/testing.ts";
import { hastackSync } from "../../testing/lab-cli.ts";

let lab: LabHandle;

describe("power-loss on the lab", () => {
  beforeAll(async () => {
    lab = await useLab();
    // A lab just powered on has its cluster stack off (E19): the deploy brings the site up.
    expect(hastackSync(["deploy", "-i", lab.inventoryPath, "--quiet"], 1_200_000).code).toBe(0);
  }, 1_300_000);

  it("cuts every controller's power, brings all back with hastack recover, and loses no committed write", {
    timeout: 900_000,
  }, () => {
    const drill = hastackSync(
      ["drill", "power-loss", "-i", lab.inventoryPath, "--healthy-timeout", "300"],
      840_000,
    );
    console.log(drill.out);
    expect(drill.out).toMatch(/all controllers on/);
    expect(drill.out).toMatch(/hastack recover done, after power-on/);
    expect(drill.out).not.toMatch(/acknowledged write\(s\) lost|hastack recover (failed|refused)/);
    expect(drill.out).toMatch(/verdict: (passed|slow) \(/);
    expect([0, 3]).toContain(drill.code);
  });
});
