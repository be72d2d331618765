import { describe, expect, it } from "vitest";
import {
  computeProviders,
  type Evacuee,
  parsePlacement,
  planEvacuation,
  priorityOf,
  type ResourceProvider,
} from "./capacity.ts";

/** A compute as Placement describes it: VCPU at 4.0, memory at 1.0, 2 GiB of memory reserved. */
function compute(
  name: string,
  used: { vcpu: number; ram: number; disk?: number },
  cores = 8,
  ramMb = 16_384,
) {
  return {
    uuid: `rp-${name}`,
    name,
    inventories: {
      VCPU: { total: cores, reserved: 0, allocation_ratio: 4.0, min_unit: 1, max_unit: cores, step_size: 1 },
      MEMORY_MB: {
        total: ramMb,
        reserved: 2048,
        allocation_ratio: 1.0,
        min_unit: 1,
        max_unit: ramMb,
        step_size: 1,
      },
      DISK_GB: { total: 1000, reserved: 0, allocation_ratio: 1.0, min_unit: 1, max_unit: 1000, step_size: 1 },
    },
    usages: { VCPU: used.vcpu, MEMORY_MB: used.ram, DISK_GB: used.disk ?? 0 },
  };
}

function vm(uuid: string, vcpu: number, ram: number, priority = 0): Evacuee {
  return { uuid, priority, resources: { VCPU: vcpu, MEMORY_MB: ram, DISK_GB: 0 } };
}

describe("instance-ha/capacity: parsePlacement", () => {
  it("reads Placement's shapes and fills its defaults", () => {
    const [rp] = parsePlacement([
      { uuid: "u1", name: "cmp1", inventories: { VCPU: { total: 4 } }, usages: { VCPU: 1 }, generation: 7 },
    ]);

    expect(rp?.inventories.VCPU).toEqual({
      total: 4,
      reserved: 0,
      allocation_ratio: 1,
      min_unit: 1,
      step_size: 1,
    });
  });

  it.each([
    [
      [{ uuid: "u1", name: "cmp1", inventories: { VCPU: { total: -1 } }, usages: {} }],
      "at 0.inventories.VCPU.total",
    ],
    [[{ uuid: "u1", name: "cmp1", inventories: {} }], "at 0.usages"],
    [{ resource_providers: [] }, "at the top"],
  ])("refuses data it cannot read (%j), saying where", (raw, where) => {
    expect(() => parsePlacement(raw)).toThrow(expect.objectContaining({ code: "E_HA_PLACEMENT_DATA" }));
    expect(() => parsePlacement(raw)).toThrow(where);
  });
});

describe("instance-ha/capacity: computeProviders", () => {
  it("names each compute node's provider by its Nova host, through the uuid, and leaves other providers out", () => {
    const raw = [
      { ...compute("hv-0042.rack7.example.org", { vcpu: 0, ram: 0 }), uuid: "node-a" },
      { ...compute("cmp9.example.org", { vcpu: 0, ram: 0 }), uuid: "node-b" },
      // A sharing provider (say, a Ceph pool's DISK_GB) or a compute node Nova no longer lists.
      { ...compute("shared-disk", { vcpu: 0, ram: 0 }), uuid: "pool-1" },
    ];
    const named = computeProviders(raw, [
      { id: "node-a", serviceHost: "cmp2" },
      // The first label of the hostname says cmp9; Nova says cmp3, and Nova's word is the one evacuate takes.
      { id: "node-b", serviceHost: "cmp3" },
    ]);
    expect(named.map((p) => [p.uuid, p.name])).toEqual([
      ["node-a", "cmp2"],
      ["node-b", "cmp3"],
    ]);
  });
});

describe("instance-ha/capacity: planEvacuation", () => {
  it("uses allocation ratios and reservations the way Placement does", () => {
    // cmp2: 8 cores x 4.0 = 32 VCPU, 30 used: 2 free; 16384 - 2048 = 14336 MB, 4096 used.
    const providers = parsePlacement([
      compute("cmp1", { vcpu: 0, ram: 0 }),
      compute("cmp2", { vcpu: 30, ram: 4096 }),
    ]);

    const plan = planEvacuation({
      providers,
      vms: [vm("a", 2, 10_240), vm("b", 4, 1024)],
      failedHost: "cmp1",
    });

    expect(plan.placements).toEqual([{ vm: "a", target: "cmp2" }]);
    expect(plan.unplaced).toEqual([
      {
        vm: "b",
        reason: "fits on no host (needs VCPU 4, MEMORY_MB 1024): cmp2: VCPU 4 > 2 free",
      },
    ]);
  });

  it("never places onto the failed host or an excluded one, however much room they have", () => {
    const providers = parsePlacement([
      compute("cmp1", { vcpu: 0, ram: 0 }),
      compute("cmp2", { vcpu: 0, ram: 0 }),
      compute("cmp3", { vcpu: 0, ram: 12_288 }),
    ]);

    const plan = planEvacuation({
      providers,
      vms: [vm("a", 1, 1024)],
      failedHost: "cmp1",
      exclude: ["cmp2"],
    });

    expect(plan.placements).toEqual([{ vm: "a", target: "cmp3" }]);
  });

  it("places by priority first, then the largest first, and reports the VMs left over", () => {
    // One host with 8192 MB free.
    const providers = parsePlacement([compute("cmp2", { vcpu: 0, ram: 6144 })]);
    const vms = [
      vm("small-low", 1, 1024, 0),
      vm("big-low", 2, 6144, 0),
      vm("big-high", 2, 6144, 10),
      vm("mid-high", 1, 2048, 10),
    ];

    const plan = planEvacuation({ providers, vms, failedHost: "cmp1" });

    expect(plan.placements.map((p) => p.vm)).toEqual(["big-high", "mid-high"]);
    expect(plan.unplaced.map((u) => u.vm)).toEqual(["big-low", "small-low"]);
  });

  it("sends each VM, largest first, to the host with the most memory left at that point", () => {
    const providers = parsePlacement([
      compute("cmp2", { vcpu: 0, ram: 8192 }), // 6144 free
      compute("cmp3", { vcpu: 0, ram: 4096 }), // 10240 free
    ]);
    const vms = [vm("a", 1, 6144), vm("b", 1, 4096), vm("c", 1, 4096)];

    const plan = planEvacuation({ providers, vms, failedHost: "cmp1" });

    // a: cmp3 (10240, then 4096 left); b: cmp2 (6144, then 2048); c: cmp3 (4096, then 0).
    expect(plan.placements).toEqual([
      { vm: "a", target: "cmp3" },
      { vm: "b", target: "cmp2" },
      { vm: "c", target: "cmp3" },
    ]);
    expect(plan.unplaced).toEqual([]);
  });

  it("spreads equal VMs over equal hosts instead of packing one: Nova rebuilds one host's VMs one lock hold at a time", () => {
    const providers = parsePlacement(["cmp2", "cmp3", "cmp4"].map((n) => compute(n, { vcpu: 0, ram: 0 })));
    const vms = Array.from({ length: 10 }, (_, i) => vm(`vm-${String(i).padStart(2, "0")}`, 1, 128));

    const plan = planEvacuation({ providers, vms, failedHost: "cmp1" });

    const per = (host: string) => plan.placements.filter((p) => p.target === host).length;
    expect([per("cmp2"), per("cmp3"), per("cmp4")]).toEqual([4, 3, 3]);
    // Round robin in name order at equal room: the first three VMs go to three different hosts.
    expect(plan.placements.slice(0, 3).map((p) => p.target)).toEqual(["cmp2", "cmp3", "cmp4"]);
  });

  it("respects max_unit and a resource class a host lacks", () => {
    const gpu: ResourceProvider[] = parsePlacement([compute("cmp2", { vcpu: 0, ram: 0 }, 4)]);
    const wide = vm("wide", 6, 1024); // more VCPU in one allocation than max_unit 4
    const needsGpu: Evacuee = { uuid: "g", priority: 0, resources: { VCPU: 1, MEMORY_MB: 512, VGPU: 1 } };

    const plan = planEvacuation({ providers: gpu, vms: [wide, needsGpu], failedHost: "cmp1" });

    expect(plan.unplaced).toEqual([
      { vm: "g", reason: "fits on no host (needs VCPU 1, MEMORY_MB 512, VGPU 1): cmp2: no VGPU" },
      {
        vm: "wide",
        reason: "fits on no host (needs VCPU 6, MEMORY_MB 1024): cmp2: VCPU 6 outside its units",
      },
    ]);
  });

  it("says so when no host is left at all", () => {
    const providers = parsePlacement([compute("cmp1", { vcpu: 0, ram: 0 })]);

    expect(planEvacuation({ providers, vms: [vm("a", 1, 512)], failedHost: "cmp1" }).unplaced).toEqual([
      { vm: "a", reason: "no host left to take it (needs VCPU 1, MEMORY_MB 512)" },
    ]);
  });
});

describe("instance-ha/capacity: priorityOf", () => {
  const of = (tags: string[], extraSpecs: Record<string, string> = {}) => priorityOf({ tags, extraSpecs });
  it("reads the server tag first, then the flavor's extra spec, else 0", () => {
    expect(of(["hastack:priority=7"], { "hastack:priority": "3" })).toEqual({ priority: 7 });
    expect(of(["db"], { "hastack:priority": "-2" })).toEqual({ priority: -2 });
    expect(of(["hastack:priority-x=9"])).toEqual({ priority: 0 });
    expect(of([])).toEqual({ priority: 0 });
  });
  it("ignores what is not an integer within +-1,000,000, and says which", () => {
    expect(of(["hastack:priority=1.5"])).toEqual({
      priority: 0,
      ignored: "tag hastack:priority=1.5: not an integer within +-1000000, priority 0 instead",
    });
    expect(of([], { "hastack:priority": "99999999" }).ignored).toMatch(
      /^extra spec hastack:priority=99999999: /,
    );
  });
});
