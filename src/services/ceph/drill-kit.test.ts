import { describe, expect, it } from "vitest";
import { conclude, type RunFacts, STALL_GOAL_MS, worstVerdict } from "./drill-kit.ts";
import { parseVerified } from "./io-stall.ts";

const facts = (over: Partial<RunFacts> = {}): RunFacts => ({
  drill: "osd-kill",
  target: "sto3",
  action: "killed ceph-osd@2 on sto3 with SIGKILL",
  client: "cmp1",
  writer: {
    result: { stallMs: 2100, atMs: 1, writes: 1000, verified: { checked: 1000, lost: 0 } },
    violations: [],
    problems: [],
  },
  recovery: { cleanMs: 21_000, healthOkMs: 23_000, last: "" },
  timings: [{ label: "marked down", ms: 1800 }],
  ...over,
});

describe("a Ceph drill's verdict", () => {
  it("passes a short stall with every write read back and HEALTH_OK again", () => {
    const run = conclude(facts());
    expect(run).toMatchObject({ verdict: "passed", exitCode: 0, stallMs: 2100, healthOkMs: 23_000 });
  });

  it("is slow over the 15 s goal, failed without HEALTH_OK, unsafe with a write lost", () => {
    const long = facts();
    if (long.writer.result) long.writer.result.stallMs = STALL_GOAL_MS + 1;
    expect(conclude(long)).toMatchObject({ verdict: "slow", exitCode: 3 });
    const stuck = conclude(facts({ recovery: { cleanMs: 20_000, last: "HEALTH_WARN OSD_DOWN" } }));
    expect(stuck).toMatchObject({ verdict: "failed", exitCode: 1 });
    expect(stuck.problems).toEqual(["Ceph did not get back to HEALTH_OK: HEALTH_WARN OSD_DOWN"]);
    const lost = facts({
      writer: {
        result: { stallMs: 100, atMs: 1, writes: 10, verified: { checked: 10, lost: 2 } },
        violations: ["2 of 10 acknowledged RBD writes read back different: data lost"],
        problems: [],
      },
    });
    expect(conclude(lost)).toMatchObject({ verdict: "unsafe", exitCode: 2 });
    expect(worstVerdict([conclude(facts()), conclude(lost), conclude(long)])).toBe("unsafe");
    expect(worstVerdict([conclude(facts()), conclude(long)])).toBe("slow");
  });

  it("reads the writer's read-back line among its timestamps", () => {
    expect(parseVerified("1000.000\n1000.051\nverified 2 0\n")).toEqual({ checked: 2, lost: 0 });
    expect(parseVerified("1000.000\n")).toBeUndefined();
  });
});
