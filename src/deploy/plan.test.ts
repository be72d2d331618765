import { describe, expect, it } from "vitest";
import type { StepSpec } from "../services/types.ts";
import { buildPlan, type PlanUnit } from "./plan.ts";
import { testTopology } from "./test-fixtures.ts";

const topology = testTopology("/tmp", ["ctl1", "ctl2", "ctl3"]);
const hosts = ["ctl1", "ctl2", "ctl3"];

function step(id: string, on: StepSpec["on"], after?: string[]): StepSpec {
  return { id, title: id, on, ...(after ? { after } : {}) };
}

function unit(service: string, steps: StepSpec[], after: string[] = []): PlanUnit {
  return { service, after, steps: steps.map((spec) => ({ id: `${service}.${spec.id}`, spec, hosts })) };
}

function deps(plan: ReturnType<typeof buildPlan>, key: string): string[] {
  return [...(plan.byKey.get(key)?.deps ?? [])].sort();
}

describe("buildPlan", () => {
  const units = [
    unit("host", [step("prep", "each")]),
    unit(
      "galera",
      [step("conf", "each"), step("bootstrap", "bootstrap"), step("join", "serial"), step("check", "each")],
      ["host"],
    ),
    unit("keystone", [step("conf", "each"), step("db", "bootstrap", ["galera.join"])], ["host"]),
  ];
  const plan = buildPlan(topology, units);

  it("pipelines consecutive each steps per host", () => {
    expect(deps(plan, "galera.conf@ctl2")).toEqual(["host.prep@ctl2"]);
  });

  it("waits for every host around bootstrap and serial steps", () => {
    expect(plan.byKey.has("galera.bootstrap@ctl2")).toBe(false);
    expect(deps(plan, "galera.bootstrap@ctl1")).toEqual([
      "galera.conf@ctl1",
      "galera.conf@ctl2",
      "galera.conf@ctl3",
    ]);
    expect(deps(plan, "galera.join@ctl1")).toEqual(["galera.bootstrap@ctl1"]);
    expect(deps(plan, "galera.join@ctl3")).toEqual(["galera.bootstrap@ctl1", "galera.join@ctl2"]);
    expect(deps(plan, "galera.check@ctl1")).toEqual([
      "galera.join@ctl1",
      "galera.join@ctl2",
      "galera.join@ctl3",
    ]);
  });

  it("links across services by step id, and leaves unrelated services independent", () => {
    expect(deps(plan, "keystone.db@ctl1")).toContain("galera.join@ctl3");
    expect(deps(plan, "keystone.conf@ctl1")).toEqual(["host.prep@ctl1"]);
  });

  it("keeps a serial chain serial across hosts dropped by --limit", () => {
    const limited = buildPlan(topology, units, ["ctl1", "ctl3"]);
    expect(limited.byKey.has("galera.join@ctl2")).toBe(false);
    expect(deps(limited, "galera.join@ctl3")).toEqual(["galera.bootstrap@ctl1", "galera.join@ctl1"]);
  });

  it("refuses unknown references and cycles", () => {
    expect(() => buildPlan(topology, [unit("a", [step("x", "each", ["nope"])])])).toThrow(/waits for nope/);
    expect(() => buildPlan(topology, [unit("a", [step("x", "each", ["a.y"]), step("y", "each")])])).toThrow(
      /cycle: a\.(x|y)@ctl\d -> /,
    );
  });
});
