import { describe, expect, it } from "vitest";
import { exampleTopology, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { tablePage } from "./health.ts";

describe("Horizon's login probe page", () => {
  it("is a table whose service the site deploys: a panel without its service answers 403", () => {
    const registry = withOpenStackImplemented();
    const site = (enabled: string[]) =>
      exampleTopology(
        "lab",
        (inv) => {
          inv.services = { ...inv.services, openstack: { enabled } };
        },
        registry,
      );
    expect(
      tablePage(site(["keystone", "placement", "glance", "nova", "neutron", "cinder", "horizon"])).path,
    ).toBe("/project/instances/");
    // The lab's default site: no Nova (the instance list gave 403 after a drill in CI).
    expect(tablePage(site(["keystone", "placement", "glance", "cinder", "horizon"]))).toEqual({
      path: "/project/volumes/",
      table: "volumes",
      what: "volume list",
    });
    expect(tablePage(site(["keystone", "horizon"])).table).toBe("tenants");
  });
});
