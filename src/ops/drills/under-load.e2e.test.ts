/**
 * Issue 9's drill on the lab: the public VIP's holder powered off while tenants use every API
 * through it (TLS) and create servers (src/ops/drills/under-load.ts). Each API's downtime and
 * error count is printed; no server may end in ERROR or stay in BUILD. Its budget is a speed
 * figure (docs/tuning.md): slow is allowed here, unsafe or failed is not.
 *
 * In `npm run test:pending` (vitest.config.ts), since the whole cloud does not fit CI's 60 minutes:
 * from run 13 on, 9 of 10 runs on the lab passed (runs 21 and 22 through this file, 2026-12-05);
 * the failed one, run 15, was Keystone's login stall, reproduced and bounded since. docs/tuning.md
 * has each run's figures and what was changed after it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cloudInventoryCopy, useLab } from "../../lab/testing.ts";
import { hastackSync } from "../../testing/lab-cli.ts";

let inventory = "";

describe("controller-poweroff-under-load on the lab's whole cloud", () => {
  beforeAll(async () => {
    const lab = await useLab();
    const copy = await cloudInventoryCopy(lab);
    inventory = copy.inventory;
    expect(hastackSync(["deploy", "-i", inventory, "--quiet"], 1_200_000).code).toBe(0);
    expect(hastackSync(["lab", "guest-image", "-i", inventory], 900_000).code).toBe(0);
  });

  it("keeps every API answering and no server in ERROR when the public VIP's holder is powered off under load", {
    timeout: 1_600_000,
  }, () => {
    const drill = hastackSync(
      ["drill", "controller-poweroff-under-load", "-i", inventory, "--healthy-timeout", "600"],
      1_500_000,
    );
    console.log(drill.out);
    for (const api of ["keystone", "nova", "neutron", "glance", "cinder", "placement"])
      expect(drill.out).toMatch(new RegExp(`${api} API down \\(\\d+ of \\d+ requests failed\\): [\\d.]+ s`));
    expect(drill.out).toMatch(/servers: \d+ asked for, [1-9]\d* ACTIVE then deleted/);
    expect(drill.out).not.toMatch(/ended in ERROR|never became ACTIVE/);
    expect(drill.out).toMatch(/verdict: (passed|slow) \(/);
    expect([0, 3]).toContain(drill.code);
  });
});
