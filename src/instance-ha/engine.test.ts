import { afterEach, describe, expect, it } from "vitest";
import { BOTH, closeWorld, FAILED_FENCE, HOSTS, POWER_FENCE, report, world } from "./engine-test-world.ts";

/**
 * The engine with the REAL receiver on 127.0.0.1 and REAL signed heartbeat packets over UDP; the
 * clock is the test's (the receiver stamps arrivals with it, the engine ticks with it), so the
 * detection time is exact. The fence, Nova, the BMC's power read, the control-plane view and
 * corosync's quorum are test doubles here: the real ones need the lab, and are proven there by
 * evacuate.e2e.test.ts (fence + respond) and hostkit/quorum.test.ts (the lab's recorded output).
 */
afterEach(closeWorld);

describe("instance-ha/engine: heartbeats in, decisions and actions out", () => {
  it("fences and evacuates a host silent on both networks, power off, exactly once, fail_after evaluations after its silence shows", async () => {
    const w = await world();
    await w.run(3, HOSTS);
    const lastHeard = w.now();
    await w.run(12, ["cmp2", "cmp3", "cmp4"]);

    // Silent counts from the first evaluation more than silence_ms (2000) after the last
    // heartbeat, then fail_after (3) bad evaluations one second apart: fenced at +5 s.
    const firstBad = (Math.floor(2000 / 1000) + 1) * 1000;
    expect(w.calls.fence).toEqual([{ host: "cmp1", at: lastHeard + firstBad + (3 - 1) * 1000 }]);
    expect(w.calls.evacuate).toEqual(["cmp1"]);
    expect(w.phase("cmp1")).toBe("evacuated");
    const path = w.recorded.filter((e) => e.host === "cmp1" && e.kind === "phase").map((e) => e.phaseTo);
    expect(path).toEqual(["suspect", "failed", "fencing", "fenced", "evacuating", "evacuated"]);
    expect(w.upserted.filter((s) => s.host === "cmp1").map((s) => s.phase)).toEqual(path);
    expect(w.upserted.find((s) => s.phase === "evacuating")?.episode).toMatch(/^cmp1@/);
    for (const h of ["cmp2", "cmp3", "cmp4"]) expect(w.phase(h)).toBe("healthy");
  });

  it("never fences a host whose management network is silent while storage still hears it: alert only", async () => {
    const w = await world({ power: "on" });
    await w.run(3, HOSTS);
    for (let i = 0; i < 10; i++) {
      await w.run(1, ["cmp2", "cmp3", "cmp4"]);
      await w.beat(["cmp1"], ["storage"]);
    }
    expect(w.calls.fence).toEqual([]);
    expect(w.phase("cmp1")).toBe("suspect");
    const alerts = w.recorded.filter((e) => e.host === "cmp1" && e.kind === "alert");
    expect(alerts.map((e) => e.detail)).toEqual([
      expect.stringMatching(/management network silent, storage alive/),
    ]);
  });

  it("never fences without quorum, and records why as an alert", async () => {
    const w = await world({
      quorate: { quorate: false, reason: "ctl1 is not quorate (1 of 3 votes, 2 needed)" },
    });
    await w.run(3, HOSTS);
    await w.run(10, ["cmp2", "cmp3", "cmp4"]);
    expect(w.calls.fence).toEqual([]);
    expect(w.calls.quorate).toBeGreaterThan(1); // asked again each evaluation: quorum may come back
    expect(w.phase("cmp1")).toBe("failed");
    const alerts = w.recorded.filter((e) => e.host === "cmp1" && e.kind === "alert");
    expect(alerts).toEqual([
      expect.objectContaining({ detail: expect.stringMatching(/no quorum: ctl1 is not quorate/) }),
    ]);
    expect(w.gates("cmp1").map((e) => e.data)).toEqual([{ act: false, gate: "quorum" }]);
  });

  it("valve: three of four hosts silent at once is an outage, nothing is fenced", async () => {
    const w = await world();
    await w.run(3, HOSTS);
    await w.run(10, ["cmp4"]);
    expect(w.calls.fence).toEqual([]);
    expect(w.calls.quorate).toBe(0);
    for (const h of ["cmp1", "cmp2", "cmp3"]) {
      expect(w.phase(h)).toBe("failed");
      expect(w.gates(h).at(-1)).toMatchObject({ detail: expect.stringMatching(/^valve closed: 3 of 4/) });
    }
  });

  it("dry run decides and records, never fences or evacuates", async () => {
    const w = await world({ settings: { dry_run: true } });
    await w.run(3, HOSTS);
    await w.run(10, ["cmp2", "cmp3", "cmp4"]);
    expect(w.calls).toMatchObject({ fence: [], evacuate: [] });
    expect(w.gates("cmp1")).toEqual([
      expect.objectContaining({
        detail: expect.stringMatching(/^dry run: would fence cmp1/),
        data: { act: false, gate: "dry-run" },
      }),
    ]);
  });

  it("runs one action per host at a time, however many evaluations pass while it runs", async () => {
    const gate = () => {
      let open = () => {};
      const done = new Promise<void>((resolve) => {
        open = resolve;
      });
      return { done, open: () => open() };
    };
    const fenced = gate();
    const evacuated = gate();
    const w = await world({
      fence: async () => fenced.done.then(() => POWER_FENCE),
      evacuate: async (h) => evacuated.done.then(() => report(h)),
    });
    await w.run(3, HOSTS);
    // Evaluations go on without waiting for the actions (engine.idle() would wait forever).
    await w.run(10, ["cmp2", "cmp3", "cmp4"], BOTH, false);
    expect(w.calls.fence.length).toBe(1);
    expect(w.phase("cmp1")).toBe("fencing");
    fenced.open();
    await w.run(10, ["cmp2", "cmp3", "cmp4"], BOTH, false);
    expect(w.calls.evacuate).toEqual(["cmp1"]);
    expect(w.phase("cmp1")).toBe("evacuating");
    evacuated.open();
    await w.run(5, ["cmp2", "cmp3", "cmp4"]);
    expect(w.calls.fence.length).toBe(1);
    expect(w.calls.evacuate).toEqual(["cmp1"]);
    expect(w.phase("cmp1")).toBe("evacuated");
  });

  it("a fence that was not confirmed sends the host back to failed, and is retried only after the backoff", async () => {
    const w = await world({ fence: async () => FAILED_FENCE, settings: { fence_backoff_s: 5 } });
    await w.run(3, HOSTS);
    await w.run(14, ["cmp2", "cmp3", "cmp4"]);
    const at = w.calls.fence.map((c) => c.at);
    expect(at.length).toBe(2);
    // failed -> fencing -> failed (fence-failed, in the same evaluation); then 5 s of backoff.
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(5000 + 1000);
    expect(w.calls.evacuate).toEqual([]);
    const backoffs = w.gates("cmp1").filter((e) => e.data?.gate === "backoff");
    expect(backoffs.length).toBe(at.length); // once per failed fence, not once a second
  });

  it("a host held disabled is watched again once the operator has enabled it in Nova, and not before", async () => {
    let enabled = false;
    const w = await world({
      operatorEnabled: () => enabled,
      snapshots: [
        {
          host: "cmp1",
          phase: "disabled",
          since: new Date(1_700_000_000_000 - 30_000),
          holdDisabled: true,
        },
      ],
    });
    await w.engine.resume(0);
    await w.run(12, HOSTS);
    expect(w.phase("cmp1")).toBe("disabled");
    // Asked of Nova every 10 s, not every second.
    expect(w.calls.operatorChecks.filter((h) => h === "cmp1")).toHaveLength(2);
    expect(w.calls.operatorChecks.filter((h) => h !== "cmp1")).toEqual([]);
    enabled = true;
    await w.run(12, HOSTS);
    expect(w.phase("cmp1")).toBe("healthy");
    expect(w.recorded.some((e) => e.host === "cmp1" && /enabled by the operator/.test(e.detail))).toBe(true);
    // Watched again: its silence now fails it and fences it.
    await w.run(
      8,
      HOSTS.filter((h) => h !== "cmp1"),
    );
    expect(w.calls.fence.map((f) => f.host)).toContain("cmp1");
  });

  it("a standby resuming a host that was mid-evacuation drives the evacuation again, once, without a new fence", async () => {
    const w = await world({
      snapshots: [
        {
          host: "cmp1",
          phase: "evacuating",
          since: new Date(1_700_000_000_000 - 30_000),
          episode: "cmp1@before",
          fenceMethod: "power",
          holdDisabled: false,
        },
      ],
    });
    await w.engine.resume(0);
    await w.run(6, ["cmp2", "cmp3", "cmp4"]);
    expect(w.calls.fence).toEqual([]);
    expect(w.calls.evacuate).toEqual(["cmp1"]);
    expect(w.phase("cmp1")).toBe("evacuated");
    expect(w.recorded.map((e) => e.detail)).toContain("evacuating cmp1 (driven again)");
  });

  it("an evacuation that throws is driven again only after the backoff, not every second", async () => {
    const w = await world({
      settings: { fence_backoff_s: 5 },
      evacuate: async () => {
        throw new Error("Nova: HTTP 503");
      },
    });
    await w.run(3, HOSTS);
    await w.run(20, ["cmp2", "cmp3", "cmp4"]);
    // One attempt, then one per 5 s backoff (and an evaluation to see the throw): 3 or 4 in 20 s,
    // where without the backoff it would be one a second.
    expect(w.calls.evacuate.length).toBeGreaterThanOrEqual(3);
    expect(w.calls.evacuate.length).toBeLessThanOrEqual(4);
    expect(w.calls.fence.length).toBe(1);
    expect(w.phase("cmp1")).toBe("evacuating");
  });

  it("re-enables a fenced and evacuated host once it is back with a new boot and healthy for recover_after evaluations", async () => {
    const w = await world({ settings: { recover_after: 3 } });
    await w.run(3, HOSTS);
    await w.run(15, ["cmp2", "cmp3", "cmp4"]);
    expect(w.phase("cmp1")).toBe("evacuated");
    // Its old boot heard again is not a recovery (a host that was never really off).
    await w.run(5, HOSTS);
    expect(w.calls.reenable).toEqual([]);
    w.reboot();
    await w.run(8, HOSTS);
    expect(w.calls.reenable).toEqual(["cmp1"]);
    expect(w.phase("cmp1")).toBe("healthy");
  });

  it("ends a host's episode when it is healthy again, in the snapshot too: the next failure claims its VMs afresh", async () => {
    const w = await world({
      settings: { recover_after: 3 },
      // As written before the fix: a healthy snapshot that kept its old episode.
      snapshots: [
        {
          host: "cmp1",
          phase: "healthy",
          since: new Date(1_700_000_000_000 - 30_000),
          episode: "cmp1@old",
          holdDisabled: false,
        },
      ],
    });
    await w.engine.resume(0);
    await w.run(3, HOSTS);
    await w.run(15, ["cmp2", "cmp3", "cmp4"]);
    const first = w.upserted.find((s) => s.host === "cmp1" && s.phase === "evacuating")?.episode;
    expect(first).toMatch(/^cmp1@2023-/);
    w.reboot();
    await w.run(8, HOSTS);
    expect(w.phase("cmp1")).toBe("healthy");
    const last = w.upserted.filter((s) => s.host === "cmp1").at(-1);
    expect(last?.phase).toBe("healthy");
    expect(last?.episode).toBeUndefined();
    await w.run(15, ["cmp2", "cmp3", "cmp4"]);
    const second = w.upserted.filter((s) => s.host === "cmp1" && s.phase === "evacuating").at(-1)?.episode;
    expect(second).toMatch(/^cmp1@/);
    expect(second).not.toBe(first);
  });

  it("once started, acts on a fence's confirmation when it arrives, not at the next evaluations: failed to evacuated within one second", async () => {
    // The interval never fires in this test: the evaluations are the test's, one a second.
    const w = await world({ settings: { tick_ms: 3_600_000 } });
    await w.engine.start();
    await w.run(3, HOSTS);
    await w.run(5, ["cmp2", "cmp3", "cmp4"]);
    expect(w.calls.fence).toHaveLength(1);
    expect(w.calls.evacuate).toEqual(["cmp1"]);
    expect(w.phase("cmp1")).toBe("evacuated");
    const path = w.recorded.filter((e) => e.host === "cmp1" && e.kind === "phase");
    expect(path.map((e) => e.phaseTo)).toEqual([
      "suspect",
      "failed",
      "fencing",
      "fenced",
      "evacuating",
      "evacuated",
    ]);
    const failedAt = path.find((e) => e.phaseTo === "failed")?.at.getTime() ?? 0;
    // The same second as the failure (the test's clock only moves between evaluations).
    expect(path.at(-1)?.at.getTime()).toBe(failedAt);
  });
});
