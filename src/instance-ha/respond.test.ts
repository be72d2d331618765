import { afterEach, describe, expect, it } from "vitest";
import type { Placement } from "../openstack/placement.ts";
import { type FakeNova, type FakeServer, novaOf, startFakeNova } from "../testing/fake-nova.ts";
import type { FenceResult } from "./fence.ts";
import { evacuateStep, fenceStep, respondToFailure } from "./respond.ts";

// Nova is fake-nova.ts's small real HTTP server (see evacuate.test.ts for why). Placement is an
// object with the Placement interface: its answers are what placement.ts would have read. The
// real pair, with a real fence, runs on the lab in evacuate.e2e.test.ts.
let fake: FakeNova | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const GIB = 1024;
function provider(host: string, usedMb: number) {
  return {
    uuid: `rp-${host}`,
    name: `${host}.example.org`,
    inventories: {
      VCPU: { total: 4, reserved: 0, allocation_ratio: 4 },
      MEMORY_MB: { total: 4 * GIB, reserved: 0, allocation_ratio: 1 },
    },
    usages: { VCPU: 0, MEMORY_MB: usedMb },
  };
}

function placementOf(used: Record<string, number>): Placement {
  return {
    providers: async () => Object.entries(used).map(([host, mb]) => provider(host, mb)),
    allocations: async () => ({ "rp-cmp1": { VCPU: 1, MEMORY_MB: GIB } }),
  };
}

async function setUp(servers: FakeServer[], cmp3Disabled = false) {
  fake = await startFakeNova({
    services: [
      { id: "s1", host: "cmp1", status: "enabled", disabled_reason: null, forced_down: false, alive: false },
      { id: "s2", host: "cmp2", status: "enabled", disabled_reason: null, forced_down: false, alive: true },
      {
        id: "s3",
        host: "cmp3",
        status: cmp3Disabled ? "disabled" : "enabled",
        disabled_reason: cmp3Disabled ? "maintenance" : null,
        forced_down: false,
        alive: true,
      },
    ],
    servers,
  });
  return { fake, nova: await novaOf(fake) };
}

const vm = (id: string): FakeServer => ({ id, name: id, host: "cmp1", vm_state: "active", task_state: null });
const POWER: FenceResult = { ok: true, method: "power", detail: "cmp1 fenced", ms: 400, attempts: [] };
const FAST = { poll_ms: 20, evacuation_timeout_s: 2 };

describe("instance-ha/respond: plan, fence, then Nova", () => {
  it("plans with Nova's host names (not Placement's FQDNs), never onto a disabled compute, fences first, then evacuates", async () => {
    const { fake, nova } = await setUp([vm("a"), vm("b")], true);
    let fencedAtLog = -1;
    const report = await respondToFailure("cmp1", {
      nova,
      placement: placementOf({ cmp1: 2 * GIB, cmp2: 0, cmp3: 0 }),
      disksOnCeph: true,
      settings: FAST,
      fence: async () => {
        fencedAtLog = fake.log.length;
        return POWER;
      },
    });
    expect(report.plan.placements.map((p) => p.target)).toEqual(["cmp2", "cmp2"]);
    expect(report.timeline.join("\n")).toMatch(/not onto cmp3: disabled or down/);
    expect(report.outcome).toBe("evacuated");
    // Nothing was written to Nova before the fence returned.
    expect(fake.log.slice(0, fencedAtLog).filter((l) => l.method !== "GET")).toEqual([]);
    expect(fake.log.slice(fencedAtLog).some((l) => l.method === "POST")).toBe(true);
  });

  it("does nothing in Nova when the fence is not confirmed, or is a storage fence for disks not on Ceph", async () => {
    const { fake, nova } = await setUp([vm("a")]);
    const failed: FenceResult = {
      ok: false,
      detail: "Cannot fence cmp1: BMC silent",
      ms: 6000,
      attempts: [],
    };
    const storage: FenceResult = {
      ok: true,
      method: "storage",
      detail: "blocklisted",
      ms: 900,
      attempts: [],
    };
    for (const [fence, disksOnCeph] of [
      [failed, true],
      [storage, false],
    ] as const) {
      const report = await respondToFailure("cmp1", {
        nova,
        placement: placementOf({ cmp1: GIB, cmp2: 0 }),
        disksOnCeph,
        fence: async () => fence,
      });
      expect(report.outcome).toBe("not-fenced");
      expect(report.evacuation).toBeUndefined();
    }
    expect(fake.log.filter((l) => l.method !== "GET")).toEqual([]);
    expect(fake.servers[0]?.host).toBe("cmp1");
  });

  it("a dry run plans and touches nothing, the fence included", async () => {
    const { fake, nova } = await setUp([vm("a")]);
    let fenced = false;
    const report = await respondToFailure(
      "cmp1",
      {
        nova,
        placement: placementOf({ cmp1: GIB, cmp2: 0 }),
        disksOnCeph: true,
        fence: async () => {
          fenced = true;
          return POWER;
        },
      },
      { dryRun: true },
    );
    expect(report.outcome).toBe("planned");
    expect(report.plan.placements).toEqual([{ vm: "a", target: "cmp2" }]);
    expect(fenced).toBe(false);
    expect(fake.log.filter((l) => l.method !== "GET")).toEqual([]);
  });

  it("in two steps (the engine's): the fence alone touches nothing in Nova; the evacuation plans again and moves only what is still there", async () => {
    const { fake, nova } = await setUp([vm("a"), vm("b")]);
    const deps = {
      nova,
      placement: placementOf({ cmp1: 2 * GIB, cmp2: 0 }),
      disksOnCeph: false,
      settings: FAST,
      fence: async () => POWER,
    };
    const step = await fenceStep("cmp1", deps);
    expect(step).toMatchObject({ evacuable: true, fence: POWER });
    expect(fake.log.filter((l) => l.method !== "GET")).toEqual([]);
    const storage = await fenceStep("cmp1", {
      ...deps,
      fence: async () => ({ ok: true, method: "storage", detail: "blocklisted", ms: 1, attempts: [] }),
    });
    expect(storage.evacuable).toBe(false);
    expect(storage.detail).toMatch(/not all on Ceph/);

    // As a standby re-driving a host mid-evacuation: "a" is gone already (moved before the failover).
    const moved = fake.servers.find((s) => s.id === "a");
    if (moved) moved.host = "cmp2";
    const report = await evacuateStep("cmp1", deps, POWER);
    expect(report.outcome).toBe("evacuated");
    expect(report.evacuation?.servers.map((s) => s.id)).toEqual(["b"]);
  });

  it("with room for one VM, moves the one its tag (before its flavor's extra spec) ranks first, and leaves the rest with the reason", async () => {
    const { fake, nova } = await setUp([
      { ...vm("a"), extra_specs: { "hastack:priority": "5" } },
      // The tag wins over the flavor's 100: the owner's word for this VM.
      { ...vm("b"), tags: ["web", "hastack:priority=20"], extra_specs: { "hastack:priority": "100" } },
      { ...vm("c"), tags: ["hastack:priority=high"] },
    ]);
    const report = await respondToFailure("cmp1", {
      nova,
      // cmp2 has 1 GiB left, cmp3 none: one VM of 1 GiB fits.
      placement: placementOf({ cmp1: 3 * GIB, cmp2: 3 * GIB, cmp3: 4 * GIB }),
      disksOnCeph: true,
      settings: FAST,
      fence: async () => POWER,
    });
    expect(report.plan.placements).toEqual([{ vm: "b", target: "cmp2" }]);
    expect(report.plan.unplaced.map((u) => u.vm)).toEqual(["a", "c"]);
    expect(report.outcome).toBe("partial");
    const posts = fake.log.filter((l) => l.method === "POST").map((l) => l.path);
    expect(posts).toEqual(["/v2.1/servers/b/action"]);
    const timeline = report.timeline.join("\n");
    expect(timeline).toMatch(/plan: priority of c \(c\): tag hastack:priority=high: not an integer/);
    expect(timeline).toMatch(/plan: a fits nowhere: fits on no host \(needs VCPU 1, MEMORY_MB 1024\)/);
  });
});
