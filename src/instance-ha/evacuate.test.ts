import { afterEach, describe, expect, it } from "vitest";
import {
  type FakeNova,
  type FakeServer,
  type FakeService,
  novaOf,
  startFakeNova,
} from "../testing/fake-nova.ts";
import type { Plan } from "./capacity.ts";
import { type EvacuationProgress, evacuateHost } from "./evacuate.ts";

// A real Nova needs the lab (busy with other work), so Nova here is a small real HTTP server
// (src/testing/fake-nova.ts): the Nova API subset with the reference's field names, refusing any
// request outside microversions 2.53-2.94, refusing evacuations as Nova does (source service up,
// wrong vm_state or a pending task), and counting the evacuations in flight on its side.
let fake: FakeNova | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const FAST = { poll_ms: 20, evacuation_timeout_s: 1 };

function service(id: string, host: string): FakeService {
  return { id, host, status: "enabled", disabled_reason: null, forced_down: false, alive: host !== "cmp1" };
}

function vm(id: string, extra: Partial<FakeServer> = {}): FakeServer {
  return { id, name: `vm-${id}`, host: "cmp1", vm_state: "active", task_state: null, ...extra };
}

async function setUp(servers: FakeServer[]) {
  fake = await startFakeNova({
    services: [service("svc-1", "cmp1"), service("svc-2", "cmp2"), service("svc-3", "cmp3")],
    servers,
  });
  return { fake, nova: await novaOf(fake) };
}

function planOf(ids: string[], target = "cmp2"): Plan {
  return { placements: ids.map((vm) => ({ vm, target })), unplaced: [] };
}

describe("instance-ha/evacuate: evacuateHost", () => {
  it("forces the service down and disables it before the first evacuate, naming hastack and the time", async () => {
    const { fake, nova } = await setUp([vm("a"), vm("b")]);
    const clock = () => new Date("2026-12-03T15:50:19.123Z");
    const report = await evacuateHost({
      host: "cmp1",
      plan: planOf(["a", "b"]),
      nova,
      settings: FAST,
      clock,
    });

    const writes = fake.log.filter((l) => l.method !== "GET");
    expect(writes.slice(0, 2).map((l) => [l.method, l.path, l.body])).toEqual([
      ["PUT", "/v2.1/os-services/svc-1", { forced_down: true }],
      [
        "PUT",
        "/v2.1/os-services/svc-1",
        {
          status: "disabled",
          disabled_reason: "hastack instance-ha: cmp1 failed, evacuating since 2026-12-03T15:50:19Z",
        },
      ],
    ]);
    expect(writes.slice(2).every((l) => l.method === "POST")).toBe(true);
    expect(report.failed).toBe(0);
    expect(report.servers[0]).toMatchObject({ name: "vm-a", from: "cmp1", status: "evacuated" });
    expect(report.servers[0]?.seconds).toBeGreaterThan(0);
    expect(report.servers.map((s) => [s.id, s.status, s.to, s.attempts])).toEqual([
      ["a", "evacuated", "cmp2", 1],
      ["b", "evacuated", "cmp2", 1],
    ]);
    // The plan's target, not the host still shown in the moment after the state is saved (6.6).
    expect(fake.servers.every((s) => s.host === "cmp2")).toBe(true);
  });

  it("never has more evacuations in flight in Nova than the setting", async () => {
    const ids = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    const { fake, nova } = await setUp(ids.map((id) => vm(id)));
    fake.evacuateMs = 120;
    const report = await evacuateHost({
      host: "cmp1",
      plan: planOf(ids),
      nova,
      settings: { ...FAST, parallel: 3 },
    });

    expect(report.servers.filter((s) => s.status === "evacuated")).toHaveLength(10);
    expect(fake.maxInFlight).toBe(3);
  });

  it("retries a server that went to ERROR once, letting the scheduler pick, and reports one that fails twice", async () => {
    const { fake, nova } = await setUp([
      vm("once", { script: ["error", "ok"] }),
      vm("twice", { script: ["error", "error"] }),
    ]);
    const events: EvacuationProgress[] = [];
    const report = await evacuateHost({
      host: "cmp1",
      plan: planOf(["once", "twice"]),
      nova,
      settings: FAST,
      onProgress: (e) => events.push(e),
    });

    const once = report.servers.find((s) => s.id === "once");
    const twice = report.servers.find((s) => s.id === "twice");
    expect(once).toMatchObject({ status: "evacuated", attempts: 2, from: "cmp1" });
    expect(once?.to).toMatch(/^cmp[23]$/);
    expect(twice).toMatchObject({
      status: "failed",
      attempts: 2,
      reason: "ERROR on cmp1: No valid host was found. ",
    });
    expect(report.failed).toBe(1);
    const posts = fake.log.filter((l) => l.method === "POST" && l.path.includes("/once/"));
    expect(posts.map((l) => l.body)).toEqual([{ evacuate: { host: "cmp2" } }, { evacuate: {} }]);
    const retried = events.flatMap((e) => (e.kind === "server-retrying" ? [e.id] : []));
    expect(retried.sort()).toEqual(["once", "twice"]);
    expect(events.filter((e) => e.kind === "server-done")).toHaveLength(2);
  });

  it("follows a rebuild under way when it takes the host up (the engine before it died), never asking for it again", async () => {
    const { fake, nova } = await setUp([
      vm("moving", { task_state: "rebuilding" }),
      vm("stuck", { task_state: "rebuilding" }),
    ]);
    // The rebuild the dead engine asked for lands on cmp2 a little later; the other never ends.
    setTimeout(() => {
      const s = fake.servers.find((x) => x.id === "moving");
      if (s) Object.assign(s, { task_state: null, vm_state: "active", host: "cmp2" });
    }, 150);
    const report = await evacuateHost({
      host: "cmp1",
      plan: planOf(["moving", "stuck"]),
      nova,
      settings: FAST,
    });

    expect(fake.log.filter((l) => l.method === "POST")).toEqual([]);
    // No request was sent for either: attempts counts requests.
    expect(report.servers.find((s) => s.id === "moving")).toMatchObject({
      status: "evacuated",
      to: "cmp2",
      attempts: 0,
    });
    const stuck = report.servers.find((s) => s.id === "stuck");
    expect(stuck).toMatchObject({ status: "failed", attempts: 0 });
    expect(stuck?.reason).toMatch(
      /^not done after 1 s: REBUILD, task_state rebuilding, on cmp1 \(a rebuild under way before this engine took it up\); not tried again: being evacuated or rebuilt already/,
    );
  });

  it("skips, never evacuates, a server already moved, shelved, or unplanned, and says why", async () => {
    const { fake, nova } = await setUp([
      vm("moved", { host: "cmp3" }),
      vm("shelved", { host: null, vm_state: "shelved_offloaded" }),
      vm("late"),
      vm("big"),
    ]);
    const plan: Plan = {
      placements: [
        { vm: "moved", target: "cmp2" },
        { vm: "shelved", target: "cmp2" },
      ],
      unplaced: [{ vm: "big", reason: "fits on no host (needs VCPU 64)" }],
    };
    const report = await evacuateHost({ host: "cmp1", plan, nova, settings: FAST });

    expect(fake.log.filter((l) => l.method === "POST")).toEqual([]);
    expect(report.servers.map((s) => [s.id, s.status, s.attempts, s.reason])).toEqual([
      ["moved", "skipped", 0, "already on cmp3"],
      [
        "shelved",
        "skipped",
        0,
        "vm_state shelved_offloaded: Nova evacuates only active, stopped or error servers",
      ],
      ["big", "skipped", 0, "no room: fits on no host (needs VCPU 64)"],
      ["late", "skipped", 0, "not in the evacuation plan"],
    ]);
    expect(report.failed).toBe(0);
  });

  it("keeps a stopped server stopped, and does not evacuate twice one whose evacuation never ends", async () => {
    const { fake, nova } = await setUp([
      vm("off", { vm_state: "stopped" }),
      vm("stuck", { script: ["hang"] }),
    ]);
    const report = await evacuateHost({ host: "cmp1", plan: planOf(["off", "stuck"]), nova, settings: FAST });

    expect(report.servers.find((s) => s.id === "off")).toMatchObject({ status: "evacuated", to: "cmp2" });
    expect(fake.servers.find((s) => s.id === "off")?.vm_state).toBe("stopped");
    const stuck = report.servers.find((s) => s.id === "stuck");
    expect(stuck).toMatchObject({ status: "failed", attempts: 1 });
    expect(stuck?.reason).toMatch(
      /^not done after 1 s: REBUILD, task_state rebuilding, on cmp1; not tried again/,
    );
    expect(fake.log.filter((l) => l.method === "POST" && l.path.includes("/stuck/"))).toHaveLength(1);
  });

  it("evacuates nothing when the host has no nova-compute service", async () => {
    const { fake, nova } = await setUp([vm("a")]);
    await expect(
      evacuateHost({ host: "cmp9", plan: planOf(["a"]), nova, settings: FAST }),
    ).rejects.toMatchObject({
      code: "E_HA_EVACUATE",
      message: "Cannot evacuate cmp9: Nova has no nova-compute service there",
    });
    expect(fake.log.filter((l) => l.method !== "GET")).toEqual([]);
  });
});
