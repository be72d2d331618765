import { describe, expect, it } from "vitest";
import type { StepSpec } from "../services/types.ts";
import type { DeployEvent } from "./events.ts";
import { buildPlan, type PlanUnit } from "./plan.ts";
import { runPlan } from "./runner.ts";
import { localHosts, testTopology } from "./test-fixtures.ts";

// Steps here are plain functions over a shared in-memory "host": the runner's scheduling is
// under test, not a transport.
const names = ["ctl1", "ctl2"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runUnits(units: PlanUnit[], dryRun = false) {
  const lh = localHosts(names);
  const topology = testTopology(lh.dir, names);
  const events: DeployEvent[] = [];
  const counts = await runPlan(buildPlan(topology, units), {
    topology,
    services: [],
    files: new Map(),
    transports: lh.transports,
    dryRun,
    emit: (e) => events.push(e),
    done: new Set(),
    secrets: {},
    redact: (t) => t,
  });
  const status = (key: string) =>
    (events.find((e) => e.type === "step-end" && e.key === key) as { status?: string } | undefined)?.status;
  return { counts, events, status };
}

/** One service of one bootstrap step (on ctl1), waiting for nothing. */
function alone(service: string, spec: Omit<StepSpec, "id" | "title" | "on">): PlanUnit {
  const id = `${service}.s`;
  return {
    service,
    after: [],
    steps: [{ id, spec: { id, title: id, on: "bootstrap", ...spec }, hosts: names }],
  };
}

/** Records what runs at once on the host, by kind. */
function tracker() {
  const now = { check: 0, apply: 0 };
  let maxChecks = 0;
  let checkDuringApply = false;
  let appliesAtOnce = false;
  async function doing(kind: "check" | "apply", ms: number) {
    now[kind]++;
    maxChecks = Math.max(maxChecks, now.check);
    if (now.apply > 0 && now.check > 0) checkDuringApply = true;
    if (now.apply > 1) appliesAtOnce = true;
    await sleep(ms);
    now[kind]--;
  }
  return {
    doing,
    get maxChecks() {
      return maxChecks;
    },
    get checkDuringApply() {
      return checkDuringApply;
    },
    get appliesAtOnce() {
      return appliesAtOnce;
    },
  };
}

describe("runPlan on one host", () => {
  it("runs the checks of independent steps side by side, and each apply alone", async () => {
    const t = tracker();
    const done = new Set<string>();
    const units = ["a", "b", "c", "d"].map((s) =>
      alone(s, {
        check: async () => {
          await t.doing("check", 50);
          return done.has(s);
        },
        apply: async () => {
          await t.doing("apply", 50);
          done.add(s);
        },
      }),
    );

    const { counts } = await runUnits(units);

    expect(counts).toMatchObject({ changed: 4, failed: 0 });
    expect(t.maxChecks).toBeGreaterThan(1);
    expect(t.appliesAtOnce).toBe(false);
    expect(t.checkDuringApply).toBe(false);
  });

  it("checks again before applying when something applied since its check", async () => {
    // Both steps want the same fact; the first apply makes it true for the second as well.
    let fact = false;
    let applies = 0;
    const wantsFact = (s: string) =>
      alone(s, {
        check: async () => {
          await sleep(20);
          return fact;
        },
        apply: async () => {
          applies++;
          fact = true;
        },
      });

    const { counts } = await runUnits([wantsFact("a"), wantsFact("b")]);

    expect(applies).toBe(1);
    expect(counts).toMatchObject({ changed: 1, ok: 1 });
  });

  it("does not count the wait for the host against a step's time limit", async () => {
    let slowDone = false;
    let quickDone = false;
    const slow = alone("slow", {
      check: async () => slowDone,
      apply: async () => {
        await sleep(400);
        slowDone = true;
      },
    });
    const quick = alone("quick", {
      timeoutMs: 250,
      check: async () => quickDone,
      apply: async () => {
        quickDone = true;
      },
    });

    const { counts, events } = await runUnits([slow, quick]);

    expect(events.filter((e) => e.type === "step-end" && e.status === "failed")).toEqual([]);
    expect(counts).toMatchObject({ changed: 2, failed: 0 });
  });
});

describe("runPlan checks ahead", () => {
  /** A service of `n` chained bootstrap steps whose checks each take `ms` and find nothing to do. */
  function chain(n: number, ms: number, onCheck: (i: number) => void = () => {}): PlanUnit {
    return {
      service: "c",
      after: [],
      steps: Array.from({ length: n }, (_, i) => {
        const id = `c.s${i}`;
        const spec: StepSpec = {
          id,
          title: id,
          on: "bootstrap",
          check: async (ctx) => {
            onCheck(i);
            ctx.log.info(`checked ${i}`);
            await sleep(ms);
            return true;
          },
          apply: async () => {},
        };
        return { id, spec, hosts: names };
      }),
    };
  }

  it("takes a no-op chain in about the time of one check, reporting every step ok in order", async () => {
    const started = performance.now();
    const { counts, events } = await runUnits([chain(8, 200)]);
    const took = performance.now() - started;

    expect(counts).toMatchObject({ ok: 8, changed: 0, failed: 0 });
    // Serially 8 x 200 ms; ahead, all eight at once.
    expect(took).toBeLessThan(1000);
    const ends = events.filter((e) => e.type === "step-end").map((e) => (e as { key: string }).key);
    expect(ends).toEqual(Array.from({ length: 8 }, (_, i) => `c.s${i}@ctl1`));
    // A taken answer brings its notes, once, between its step's start and end.
    const s3 = events.filter((e) => "step" in e && e.step === "c.s3").map((e) => e.type);
    expect(s3).toEqual(["step-start", "note", "step-end"]);
  });

  it("drops an answer found ahead once anything applied, and checks again in the step's turn", async () => {
    // "first" changes what "second" finds: seen ahead, "second" has nothing to do; in its turn,
    // after "first" applied, it has.
    let x = 0;
    let secondChecks = 0;
    const unit: PlanUnit = {
      service: "u",
      after: [],
      steps: [
        {
          id: "u.first",
          hosts: names,
          spec: {
            id: "u.first",
            title: "first",
            on: "bootstrap",
            check: async () => {
              await sleep(100);
              return x === 1;
            },
            apply: async () => {
              x = 1;
            },
          },
        },
        {
          id: "u.second",
          hosts: names,
          spec: {
            id: "u.second",
            title: "second",
            on: "bootstrap",
            check: async () => {
              secondChecks++;
              return x === 0;
            },
            apply: async () => {
              x = 0;
            },
          },
        },
      ],
    };

    const { status } = await runUnits([unit]);

    expect(status("u.first@ctl1")).toBe("changed");
    expect(status("u.second@ctl1")).toBe("changed");
    expect(secondChecks).toBeGreaterThanOrEqual(3);
  });

  it("starts a step only once its check ahead has ended, even one that ignores its abort", async () => {
    // A step may keep what its check found for its apply: two of its checks on a host must never
    // overlap. "second" on ctl2 is checked ahead while "first" applies on ctl1, which aborts it.
    let x = 0;
    const now = new Map<string, number>();
    let most = 0;
    const unit: PlanUnit = {
      service: "w",
      after: [],
      steps: [
        {
          id: "w.first",
          hosts: names,
          spec: {
            id: "w.first",
            title: "first",
            on: "bootstrap",
            check: async () => {
              await sleep(50);
              return x === 1;
            },
            apply: async () => {
              x = 1;
            },
          },
        },
        {
          id: "w.second",
          hosts: ["ctl2"],
          spec: {
            id: "w.second",
            title: "second",
            on: "each",
            check: async (ctx) => {
              const host = ctx.host.name;
              now.set(host, (now.get(host) ?? 0) + 1);
              most = Math.max(most, now.get(host) ?? 0);
              await sleep(300);
              now.set(host, (now.get(host) ?? 0) - 1);
              return true;
            },
          },
        },
      ],
    };

    const { status } = await runUnits([unit]);

    expect(status("w.second@ctl2")).toBe("ok");
    expect(most).toBe(1);
  });

  it("does not check ahead in a dry run (its checks show diffs as they go)", async () => {
    const order: number[] = [];

    const { counts } = await runUnits([chain(3, 20, (i) => order.push(i))], true);

    expect(counts).toMatchObject({ ok: 3 });
    expect(order).toEqual([0, 1, 2]);
  });

  it("leaves a step whose dependency failed blocked, whatever its check found ahead", async () => {
    const unit: PlanUnit = {
      service: "f",
      after: [],
      steps: [
        {
          id: "f.breaks",
          hosts: names,
          spec: {
            id: "f.breaks",
            title: "breaks",
            on: "bootstrap",
            check: async () => {
              await sleep(50);
              return false;
            },
            apply: async () => {
              throw new Error("no");
            },
          },
        },
        {
          id: "f.after",
          hosts: names,
          spec: { id: "f.after", title: "after", on: "bootstrap", check: async () => true },
        },
      ],
    };

    const { status } = await runUnits([unit]);

    expect(status("f.breaks@ctl1")).toBe("failed");
    expect(status("f.after@ctl1")).toBe("blocked");
  });
});
