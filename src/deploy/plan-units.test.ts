import { describe, expect, it } from "vitest";
import type { ServiceDef, StepSpec } from "../services/types.ts";
import { hostByName } from "../topology/types.ts";
import type { BuiltinEnv } from "./builtin-steps.ts";
import { hostPackages, orderedAfter, planUnits } from "./plan-units.ts";
import { systemd } from "./restarts.ts";
import { testTopology } from "./test-fixtures.ts";

const hosts = ["ctl1", "ctl2"];
const topology = testTopology("/tmp", hosts);
const env: BuiltinEnv = { secrets: {}, emit: () => undefined, restarts: undefined as never, units: systemd };

function service(id: string, after: string[], opts: Partial<ServiceDef> = {}): ServiceDef {
  const step: StepSpec = { id: "run", title: `run ${id}`, on: "each", check: async () => true };
  return { id, title: id, state: "implemented", after, hosts: () => hosts, steps: () => [step], ...opts };
}

describe("service order", () => {
  // c <- b <- a: b is off on this site (disabled or declared), so a must still follow c.
  const c = service("c", []);
  const b = service("b", ["c"], { hosts: () => [] });
  const declared = service("b", ["c"], { state: "declared" });
  const a = service("a", ["b"]);

  it("keeps the order through a service that is not deployed", () => {
    expect(orderedAfter(a, [a, b, c], new Set(["a", "c"]))).toEqual(["c"]);
    const units = planUnits({ topology, services: [a, b, c], files: new Map() }, env);
    expect(units.map((u) => u.service)).toEqual(["a", "c"]);
    expect(units.find((u) => u.service === "a")?.after).toEqual(["c"]);
  });

  it("plans nothing of a declared service, whatever its steps", () => {
    const units = planUnits({ topology, services: [a, declared, c], files: new Map() }, env);
    expect(units.map((u) => u.service)).not.toContain("b");
    expect(units.find((u) => u.service === "a")?.after).toEqual(["c"]);
  });

  it("installs the packages of a service's components for the host's roles only", () => {
    const withParts = service("p", [], {
      components: [
        { name: "api", role: "controller", packages: ["p-api"], units: ["p-api.service"] },
        { name: "agent", role: "compute", packages: ["p-agent"], units: ["p-agent.service"] },
      ],
    });
    const units = planUnits({ topology, services: [withParts], files: new Map() }, env);
    expect(units.find((u) => u.service === "host")?.steps[0]?.id).toBe("host.packages");
    expect(hostPackages(withParts, topology, hostByName(topology, "ctl1"))).toEqual(["p-api"]);
    const compute = { ...hostByName(topology, "ctl1"), roles: ["compute" as const] };
    expect(hostPackages(withParts, topology, compute)).toEqual(["p-agent"]);
  });
});
