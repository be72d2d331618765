import { describe, expect, it } from "vitest";
import { exampleTopology, withDeclared, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { HastackError } from "../../util/errors.ts";
import { allFrontends } from "../haproxy/index.ts";
import { checkListens } from "../listens-check.ts";
import { services } from "../registry.ts";
import { renderTopology } from "../render.ts";
import { databaseApplySql, databaseCheckSql, missingFromRow } from "./database-step.ts";
import { judge, probeUrl } from "./health.ts";
import { parseIni } from "./test-kit.ts";

const openstack = services.filter((s) => s.group === "openstack");
// The registry as it will be once the OpenStack services are implemented (a stand-in: they are
// declared today, and declared services render nothing).
const future = withOpenStackImplemented();
const site = exampleTopology("lab", undefined, future);

describe("the OpenStack services as data", () => {
  it("form a dependency graph: requires and after name real services, and after has no cycle", () => {
    const ids = new Set(services.map((s) => s.id));
    const byId = new Map(services.map((s) => [s.id, s]));
    for (const s of openstack)
      for (const dep of [...(s.requires ?? []), ...(s.after ?? [])]) expect(ids).toContain(dep);
    expect(byId.get("nova")?.requires).toEqual(["keystone", "glance", "placement", "neutron"]);
    expect(byId.get("keystone")?.requires).toEqual([]);
    // The old disagreement: nova requires neutron, so neutron must not come after nova.
    const upstream = (id: string, seen = new Set<string>()): Set<string> => {
      for (const dep of byId.get(id)?.after ?? []) if (!seen.has(dep)) upstream(dep, seen.add(dep));
      return seen;
    };
    expect(upstream("nova")).toContain("neutron");
    for (const s of openstack) {
      expect(upstream(s.id)).not.toContain(s.id);
      for (const dep of s.requires ?? []) expect(upstream(s.id)).toContain(dep);
    }
  });

  it("make the endpoint catalogue the port table in topology/resolve.ts used to be", () => {
    const table = Object.fromEntries(
      Object.entries(site.endpoints).map(([id, e]) => [id, `${e.port}${e.path}`]),
    );
    expect(table).toEqual({
      keystone: "5000/v3",
      glance: "9292",
      placement: "8778",
      nova: "8774/v2.1",
      "nova-metadata": "8775",
      "nova-novncproxy": "6080/vnc_lite.html",
      neutron: "9696",
      cinder: "8776/v3",
      horizon: "80",
    });
    const only = exampleTopology("lab", (inv) => {
      inv.services = { ...inv.services, openstack: { enabled: ["keystone"] } };
    });
    expect(Object.keys(only.endpoints)).toEqual(["keystone"]);
    expect(services.find((s) => s.id === "glance")?.hosts(only)).toEqual([]);
  });

  it("declared: no frontend in haproxy.cfg and no file rendered for a declared service", () => {
    const ahead = withDeclared(["cinder", "horizon"]);
    const today = exampleTopology("lab", undefined, ahead);
    const declared = ahead.filter((s) => s.state === "declared" && s.group === "openstack");
    expect(declared.map((s) => s.id)).toEqual(["cinder", "horizon"]);
    expect(allFrontends(today, ahead).filter((f) => declared.some((s) => s.id === f.service))).toEqual([]);
    const files = [...renderTopology(today, ahead).files.values()].flat();
    expect(files.filter((f) => declared.some((s) => s.id === f.service))).toEqual([]);
  });

  it("once implemented, bind management addresses only and collide with nothing (HAProxy included)", () => {
    expect(checkListens(site, future)).toEqual([]);
    const names = allFrontends(site, future).map((f) => `${f.name}:${f.port}`);
    expect(names).toEqual(
      expect.arrayContaining(["keystone_api:5000", "nova_novncproxy:6080", "horizon:80", "cinder_api:8776"]),
    );
    const files = renderTopology(site, future, ["ctl2", "cmp1"]).files;
    const ctl = files.get("ctl2") ?? [];
    const text = (path: string, list = ctl) => list.find((f) => f.path === path)?.text ?? "";
    expect(text("/etc/default/neutron-server")).toContain("--http-socket 10.20.0.12:9696 ");
    expect(text("/etc/default/keystone")).toContain("--http-socket 10.20.0.12:5000 ");
    expect(text("/etc/apache2/sites-enabled/horizon.conf")).toContain("Listen 10.20.0.12:80\n");
    expect(parseIni(text("/etc/glance/glance-api.conf")).DEFAULT?.bind_host).toBe("10.20.0.12");
    for (const f of ctl.filter((x) => openstack.some((s) => s.id === x.service)))
      expect(f.text, f.path).not.toContain("0.0.0.0");
    const nova = parseIni(text("/etc/nova/nova.conf"));
    expect(nova.api_database?.connection).toMatch(/\/nova_api\?/);
    expect(nova.database?.connection).toMatch(/\/nova\?/);
    expect(parseIni(text("/etc/placement/placement.conf")).placement_database?.connection).toMatch(
      /\/placement\?/,
    );
    // A compute gets nova.conf with the same brokers (never the VIP: runbook E6), no database password.
    const compute = parseIni(text("/etc/nova/nova.conf", files.get("cmp1")));
    expect(compute.DEFAULT?.transport_url).toBe(nova.DEFAULT?.transport_url);
    expect(compute.database).toBeUndefined();
    expect(compute.keystone_authtoken).toBeUndefined();
    expect(compute.DEFAULT?.my_ip).toBe("10.20.0.21");
  });
});

describe("the database step's SQL", () => {
  const wanted = { user: "nova", databases: ["nova_api", "nova"] };

  it("creates with IF NOT EXISTS and re-sets the password, so a rerun is harmless and a new secret applies", () => {
    const sql = databaseApplySql(wanted, "s3cret");
    expect(sql).toContain("CREATE DATABASE IF NOT EXISTS `nova_api` CHARACTER SET utf8mb4");
    expect(sql).not.toContain("ALTER DATABASE");
    expect(sql).toContain("CREATE USER IF NOT EXISTS 'nova'@'%'");
    expect(sql).toContain(
      "ALTER USER 'nova'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('s3cret')",
    );
    expect(sql).toContain("GRANT ALL PRIVILEGES ON `nova`.* TO 'nova'@'%'");
  });

  it("names each missing fact from the check's row of 0/1", () => {
    expect(databaseCheckSql(wanted, "x").match(/IF\(/g)).toHaveLength(5);
    expect(missingFromRow(wanted, "1\t0\t1\t1\t0\n")).toEqual([
      "database nova",
      "ALL on nova.* to 'nova'@'%'",
    ]);
    expect(missingFromRow(wanted, "1\t1\t1\t1\t1\n")).toEqual([]);
  });

  it("refuses a name that is not a plain identifier before it reaches SQL", () => {
    expect(() => databaseApplySql({ user: "nova", databases: ["x`; DROP DATABASE mysql; --"] }, "p")).toThrow(
      HastackError,
    );
  });
});

describe("the API probe's verdict", () => {
  it("counts any answer below 500 as a working API, a 5xx or no answer as down", () => {
    const url = probeUrl(
      { endpoint: "x", name: "x", check: { kind: "http", path: "/v3" } },
      "10.0.0.1",
      5000,
    );
    expect(url).toBe("http://10.0.0.1:5000/v3");
    expect(judge(0, "200", "", url).state).toBe("ok");
    expect(judge(0, "401", "", url).state).toBe("ok");
    expect(judge(0, "503", "", url)).toEqual({ state: "down", summary: `HTTP 503 from ${url}` });
    expect(judge(7, "000", "curl: (7) Failed to connect", url).summary).toContain("Failed to connect");
  });
});
