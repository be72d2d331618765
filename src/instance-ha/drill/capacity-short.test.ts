import { describe, expect, it } from "vitest";
import { computeProviders } from "../capacity.ts";
import { holdPlan, roomFor } from "./capacity-short.ts";

/**
 * Placement's own shapes (inventories and usages as the API returns them), named as the drill
 * names them: by Nova's host, through the compute node's uuid. The hypervisor hostname is
 * deliberately not `<host>.<domain>`.
 */
function compute(host: string, totalMb: number, usedMb: number) {
  return computeProviders(
    [
      {
        uuid: `uuid-${host}`,
        name: `hv-${host}.rack7.example.org`,
        inventories: {
          MEMORY_MB: { total: totalMb, reserved: 512, allocation_ratio: 1.0, max_unit: totalMb },
        },
        usages: { MEMORY_MB: usedMb },
      },
    ],
    [{ id: `uuid-${host}`, serviceHost: host }],
  )[0] as NonNullable<ReturnType<typeof computeProviders>[number]>;
}

describe("compute-capacity-short's squeeze", () => {
  it("leaves about half the VMs room, one at least", () => {
    expect([1, 2, 3, 10].map(roomFor)).toEqual([1, 1, 1, 5]);
  });

  it("holds all but room for `room` VMs and half a spare on the first other compute, and everything elsewhere", () => {
    const plan = holdPlan([compute("cmp2", 8192, 1024), compute("cmp3", 4096, 0)], 256, 2);
    // cmp2: 8192 - 512 - 1024 = 6656 free; 2 VMs (512) and half a VM (128) left.
    expect(plan.map((p) => [p.provider.name, p.mb])).toEqual([
      ["cmp2", 6656 - 512 - 128],
      // cmp3: 3584 free, and room for none: less than one VM (half a VM) left.
      ["cmp3", 3584 - 128],
    ]);
  });

  it("refuses a site already too full to leave the room it must, naming the compute and the numbers", () => {
    // cmp2 has 7680 - 7400 = 280 MB free: room for one VM of 256 MB, not two.
    expect(() => holdPlan([compute("cmp2", 8192, 7400)], 256, 2)).toThrow(
      "Cannot squeeze cmp2: it has 280 MB of memory free in Placement, less than the 512 MB the drill must leave for 2 VM(s): the site is too full for this drill before it starts",
    );
    expect(holdPlan([compute("cmp2", 8192, 7400)], 256, 1).map((p) => p.mb)).toEqual([0]);
  });
});
