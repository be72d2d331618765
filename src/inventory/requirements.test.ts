import { describe, expect, it } from "vitest";
import type { ServiceDef } from "../services/types.ts";
import { checkRequirements } from "./requirements.ts";

function svc(id: string, requires: string[] = [], group?: "openstack"): ServiceDef {
  return { id, title: id, state: "declared", hosts: () => [], requires, ...(group ? { group } : {}) };
}

// db is base (always on); id needs db; img needs id; vm needs img and net; net needs id.
const services = [
  svc("db"),
  svc("id", ["db"], "openstack"),
  svc("img", ["id"], "openstack"),
  svc("net", ["id"], "openstack"),
  svc("vm", ["img", "net"], "openstack"),
];

describe("service requirements", () => {
  it("accepts a closed set, and counts base services as always on", () => {
    expect(checkRequirements(["id", "img", "net", "vm"], services)).toEqual([]);
  });

  it("follows requirements transitively and reports each at its place in the list", () => {
    const problems = checkRequirements(["net", "vm", "img"], services);
    expect(problems.map(([, path]) => path)).toEqual([
      ["services", "openstack", "enabled", 0],
      ["services", "openstack", "enabled", 1],
      ["services", "openstack", "enabled", 2],
    ]);
    // vm needs img (enabled) and net (enabled), and through them id, which is not.
    expect(problems[1]?.[2]).toBe("services.openstack.enabled: vm requires id, which is not enabled");
  });

  it("names every missing service at once", () => {
    const [problem] = checkRequirements(["vm"], services);
    expect(problem?.[2]).toContain("vm requires img, id, net, which are not enabled");
  });
});
