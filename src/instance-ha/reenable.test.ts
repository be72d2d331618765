import { afterEach, describe, expect, it } from "vitest";
import { type FakeNova, type FakeService, novaOf, startFakeNova } from "../testing/fake-nova.ts";
import { type ReenableProgress, reenableHost } from "./reenable.ts";

// Nova is a small real HTTP server (src/testing/fake-nova.ts) speaking the Nova API subset and
// enforcing the microversion header: a real Nova needs the lab. It refuses force-up with Nova's
// 400 while evacuations are not cleaned up, and reports `state: up` only once the test says the
// host's nova-compute heartbeats again.
let fake: FakeNova | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const FAST = { poll_ms: 20, up_timeout_s: 2 };

function fenced(extra: Partial<FakeService> = {}): FakeService {
  return {
    id: "svc-1",
    host: "cmp1",
    status: "disabled",
    disabled_reason: "hastack instance-ha: cmp1 failed, evacuating since 2026-12-03T15:50:19Z",
    forced_down: true,
    alive: false,
    ...extra,
  };
}

async function setUp(svc: FakeService) {
  fake = await startFakeNova({ services: [svc], servers: [] });
  return { fake, nova: await novaOf(fake) };
}

describe("instance-ha/reenable: reenableHost", () => {
  it("unsets force_down (again after Nova's 400s), waits for state up, and only then enables", async () => {
    const svc = fenced({ forceUpRefusals: 2 });
    const { fake, nova } = await setUp(svc);
    setTimeout(() => {
      svc.alive = true;
    }, 300);
    const events: ReenableProgress[] = [];
    const upAt: number[] = [];
    const report = await reenableHost({
      host: "cmp1",
      nova,
      settings: FAST,
      onProgress: (e) => {
        events.push(e);
        if (e.kind === "service-up") upAt.push(fake.log.length);
      },
    });

    expect(report.enabled).toEqual(["svc-1"]);
    expect(events.map((e) => e.kind)).toEqual(["service-forced-up", "service-up", "service-enabled"]);
    const puts = fake.log.filter((l) => l.method === "PUT").map((l) => l.body);
    expect(puts).toEqual([
      { forced_down: false },
      { forced_down: false },
      { forced_down: false },
      { status: "enabled" },
    ]);
    // The enable came after the reads that saw the service up, and several reads saw it down first.
    const enableAt = fake.log.findIndex((l) => l.method === "PUT" && (l.body as { status?: string }).status);
    expect(enableAt).toBeGreaterThanOrEqual(upAt[0] ?? Number.POSITIVE_INFINITY);
    expect(fake.log.filter((l) => l.method === "GET").length).toBeGreaterThan(3);
    expect(svc).toMatchObject({ status: "enabled", forced_down: false, disabled_reason: null });
  });

  it("leaves the service disabled when asked, or when someone else disabled it", async () => {
    const asked = await setUp(fenced({ alive: true }));
    const left = await reenableHost({ host: "cmp1", nova: asked.nova, settings: FAST, leaveDisabled: true });
    expect(left.leftDisabled).toEqual([{ serviceId: "svc-1", reason: "asked to leave it disabled" }]);
    await asked.fake.close();

    const operator = await setUp(
      fenced({ alive: true, disabled_reason: "disk replacement (ops ticket 42)" }),
    );
    const kept = await reenableHost({ host: "cmp1", nova: operator.nova, settings: FAST });
    expect(kept.leftDisabled[0]?.reason).toBe("disabled by someone else: disk replacement (ops ticket 42)");
    expect(operator.fake.services[0]).toMatchObject({ status: "disabled", forced_down: false });
    expect(operator.fake.log.filter((l) => l.method === "PUT").map((l) => l.body)).toEqual([
      { forced_down: false },
    ]);
  });

  it("gives up with E_HA_REENABLE, still disabled, when the service never reports up", async () => {
    const { fake, nova } = await setUp(fenced());
    await expect(
      reenableHost({ host: "cmp1", nova, settings: { poll_ms: 20, up_timeout_s: 1 } }),
    ).rejects.toMatchObject({
      code: "E_HA_REENABLE",
      message: "Cannot re-enable nova-compute on cmp1: the service did not report up within 1 s",
    });
    expect(fake.services[0]?.status).toBe("disabled");
  });
});
