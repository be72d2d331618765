import { describe, expect, it } from "vitest";
import { exampleTopology } from "../../testing/fixtures.ts";
import { services } from "../registry.ts";
import type { ServiceDef } from "../types.ts";
import { pacemaker } from "./index.ts";

const lab = exampleTopology("lab");

function cibAfter(list: readonly ServiceDef[]): string[] {
  return pacemaker.steps?.(lab, list).find((s) => s.id === "cib")?.after ?? [];
}

describe("Pacemaker resources contributed by services", () => {
  it("are loaded only after the steps that install their units", () => {
    expect(cibAfter(services)).toContain("haproxy.unit");
    const toy: ServiceDef = {
      id: "toy",
      title: "toy",
      state: "implemented",
      hosts: (t) => t.roles.controller,
      pacemaker: () => ({ after: ["toy.install"], primitives: [] }),
    };
    expect(cibAfter([...services, toy])).toContain("toy.install");
    // A declared service contributes nothing, so nothing waits for it.
    expect(cibAfter([...services, { ...toy, state: "declared" }])).not.toContain("toy.install");
  });
});
