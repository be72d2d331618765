import { describe, expect, it } from "vitest";
import { exampleTopology, withDeclared, withOpenStackImplemented } from "../testing/fixtures.ts";
import { allFrontends } from "./haproxy/index.ts";
import { checkListens } from "./listens-check.ts";
import { services } from "./registry.ts";

const lab = exampleTopology("lab");
const nine = exampleTopology("runbook-9-node");

describe("the service registry", () => {
  it("has unique ids, and every `after` names a known service or step", () => {
    const ids = services.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const service of services) {
      for (const dep of service.after ?? []) expect(ids, `${service.id} after ${dep}`).toContain(dep);
      const steps = service.steps?.(lab, services) ?? [];
      const stepIds = steps.map((s) => s.id);
      expect(new Set(stepIds).size, service.id).toBe(stepIds.length);
      for (const step of steps) {
        for (const dep of step.after ?? []) {
          const known = stepIds.includes(dep) || ids.includes(dep) || ids.includes(dep.split(".")[0] ?? "");
          expect(known, `${service.id}.${step.id} after ${dep}`).toBe(true);
        }
      }
    }
  });

  it("finds no port collisions in either example", () => {
    expect(checkListens(lab, services)).toEqual([]);
    expect(checkListens(nine, services)).toEqual([]);
  });

  it("gives a declared service no HAProxy listener: nothing would answer behind it (E30)", () => {
    const names = allFrontends(nine, services).map((f) => f.name);
    // Every OpenStack API is implemented and has its listeners.
    expect(names).toEqual([
      "galera",
      "keystone_api",
      "glance_api",
      "placement_api",
      "nova_api",
      "nova_metadata",
      "nova_novncproxy",
      "neutron_api",
      "cinder_api",
      "horizon",
    ]);
    // The next service declared ahead of its issue gets none.
    const ahead = withDeclared(["cinder", "horizon"]);
    const left = allFrontends(nine, ahead).map((f) => f.name);
    expect(left).not.toContain("cinder_api");
    expect(left).not.toContain("horizon");
    expect(left).toContain("neutron_api");
  });

  it("puts every enabled API on the VIP, backed by each controller's own address (never 0.0.0.0)", () => {
    // As implemented: what the OpenStack services will contribute once they deploy.
    const frontends = allFrontends(nine, withOpenStackImplemented());
    const byPort = new Map(frontends.map((f) => [f.port, f]));
    for (const port of [5000, 9292, 8778, 8774, 8775, 6080, 9696, 8776, 80, 3306]) {
      const f = byPort.get(port);
      expect(f, `port ${port}`).toBeDefined();
      expect(f?.address).toBe("172.16.181.30");
      expect(f?.backends.map((b) => b.address)).toEqual(["172.16.181.31", "172.16.181.32", "172.16.181.33"]);
    }
    expect(byPort.has(9191)).toBe(false);
    expect(byPort.has(5672)).toBe(false);
    const galera = byPort.get(3306);
    expect(galera?.backends.filter((b) => !b.backup)).toHaveLength(1);
    expect(galera?.check).toEqual({ kind: "http-port", port: 9200, path: "/" });
    for (const service of services) {
      for (const host of nine.hosts) {
        if (!service.hosts(nine).includes(host.name)) continue;
        for (const listen of service.listens?.(nine, host) ?? []) {
          if (listen.port !== 123)
            expect(listen.address, `${service.id} ${listen.owner}`).not.toBe("0.0.0.0");
        }
      }
    }
  });

  it("drops a disabled API everywhere", () => {
    const t = exampleTopology("lab", (inv) => {
      inv.services = { ...inv.services, openstack: { enabled: ["keystone", "glance"] } };
    });
    const names = allFrontends(t, withOpenStackImplemented()).map((f) => f.name);
    expect(names).toEqual(["galera", "keystone_api", "glance_api"]);
  });
});
