import { describe, expect, it } from "vitest";
import { secretPlaceholder as ph } from "../../inventory/secrets.ts";
import { exampleTopology, renderedFile } from "../../testing/fixtures.ts";
import { parseIni } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { renderTopology } from "../render.ts";
import { placement } from "./index.ts";

const topology = exampleTopology("lab");

describe("placement", () => {
  it("placement.conf: [placement_database] on the VIP, keystone auth, no [database] and no broker", () => {
    const file = renderedFile(topology, "ctl3", "/etc/placement/placement.conf");
    expect([file.owner, file.group, file.mode]).toEqual(["placement", "placement", 0o640]);
    const ini = parseIni(file.text);
    expect(ini.placement_database).toMatchObject({
      connection: `mysql+pymysql://placement:${ph("db_placement")}@10.20.0.10:3306/placement?charset=utf8mb4`,
      max_retries: "-1",
    });
    // Placement reads only [placement_database]: a [database] section would be ignored silently.
    expect(ini.database).toBeUndefined();
    expect(ini.api).toEqual({ auth_strategy: "keystone" });
    expect(ini.keystone_authtoken).toMatchObject({
      auth_url: "http://10.20.0.10:5000",
      username: "placement",
      password: ph("svc_placement"),
      project_name: "service",
    });
    expect(ini.DEFAULT?.transport_url).toBeUndefined();
    expect(ini.oslo_middleware).toEqual({ enable_proxy_headers_parsing: "true" });
  });

  it("uwsgi binds the management address through /etc/default/placement-api; HAProxy holds the VIP", () => {
    const files = renderTopology(topology, services, ["ctl1"]).files.get("ctl1") ?? [];
    const defaults = files.find((f) => f.path === "/etc/default/placement-api")?.text ?? "";
    expect(defaults).toContain(
      'DAEMON_ARGS="--http-socket 10.20.0.11:8778 --ini /etc/placement/placement-api-uwsgi.ini --processes 2 --threads 8"',
    );
    const cfg = files.find((f) => f.path === "/etc/haproxy/haproxy.cfg")?.text ?? "";
    const listen = cfg.split("\n\n").find((s) => s.startsWith("listen placement_api")) ?? "";
    expect(listen).toContain("bind 10.20.0.10:8778");
    expect(listen).toMatch(/server ctl3 10\.20\.0\.13:8778 check/);
  });

  it("steps: database, registration, schema once, then the API on every controller; probes: each API and through the VIP", () => {
    expect(placement.steps?.(topology, services).map((s) => [s.id, s.on, s.after])).toEqual([
      ["database", "bootstrap", ["galera"]],
      ["identity", "bootstrap", ["keystone"]],
      ["db-sync", "bootstrap", ["database"]],
      ["start", "each", ["db-sync"]],
    ]);
    expect(placement.health?.(topology, services).map((p) => [p.id, p.on, p.weight, p.hosts])).toEqual([
      ["placement_api", "each", "redundant", ["ctl1", "ctl2", "ctl3"]],
      ["vip-token", "each", "redundant", ["ctl1", "ctl2", "ctl3"]],
    ]);
  });
});
