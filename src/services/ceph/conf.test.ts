import { describe, expect, it } from "vitest";
import { exampleTopology, withDeclared } from "../../testing/fixtures.ts";
import type { Topology } from "../../topology/types.ts";
import { parseIni } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { renderTopology } from "../render.ts";
import { unwantedKeyrings } from "./stale-keys.ts";

function cephFiles(topology: Topology): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [host, files] of renderTopology(topology, services).files) {
    const mine = files.filter((f) => f.service === "ceph");
    if (mine.length > 0) out.set(host, new Map(mine.map((f) => [f.path, f.text])));
  }
  return out;
}

const KEYRINGS = {
  admin: "/etc/ceph/ceph.client.admin.keyring",
  bootstrap: "/var/lib/ceph/bootstrap-osd/ceph.keyring",
  glance: "/etc/ceph/ceph.client.glance.keyring",
  cinder: "/etc/ceph/ceph.client.cinder.keyring",
  nova: "/etc/ceph/ceph.client.nova.keyring",
};

function holders(files: Map<string, Map<string, string>>, path: string): string[] {
  return [...files].filter(([, f]) => f.has(path)).map(([h]) => h);
}

describe("Ceph files on the lab site", () => {
  const topology = exampleTopology("lab");
  const files = cephFiles(topology);

  it("gives every host ceph.conf, the same text, naming the three storage monitors on the storage network", () => {
    expect([...files.keys()]).toEqual(["ctl1", "ctl2", "ctl3", "cmp1", "cmp2", "sto1", "sto2", "sto3"]);
    const texts = new Set([...files.values()].map((f) => f.get("/etc/ceph/ceph.conf")));
    expect(texts.size).toBe(1);
    const conf = parseIni([...texts][0] ?? "");
    expect(conf.global?.mon_host).toBe(
      "[v2:10.21.0.31:3300,v1:10.21.0.31:6789],[v2:10.21.0.32:3300,v1:10.21.0.32:6789],[v2:10.21.0.33:3300,v1:10.21.0.33:6789]",
    );
    expect(conf.global?.public_network).toBe("10.21.0.0/24");
    expect(conf.global).toMatchObject({
      osd_heartbeat_grace: "10",
      osd_heartbeat_interval: "2",
      osd_mon_report_interval: "5",
    });
    // 896 MiB, the lowest target Ceph honours.
    expect(conf.osd?.osd_memory_target).toBe("939524096");
    expect(conf.mon?.mgr_initial_modules).toBe("iostat nfs");
  });

  it("puts each key only where it is used: admin on monitors, bootstrap-osd on OSD hosts, a service's key where it runs", () => {
    expect(holders(files, KEYRINGS.admin)).toEqual(["sto1", "sto2", "sto3"]);
    expect(holders(files, KEYRINGS.bootstrap)).toEqual(["sto1", "sto2", "sto3"]);
    expect(holders(files, KEYRINGS.glance)).toEqual(["ctl1", "ctl2", "ctl3"]);
    expect(holders(files, KEYRINGS.cinder)).toEqual(["ctl1", "ctl2", "ctl3"]);
    expect(holders(files, KEYRINGS.nova)).toEqual(["cmp1", "cmp2"]);
    const glance = files.get("ctl1")?.get(KEYRINGS.glance) ?? "";
    expect(glance).toContain("[client.glance]");
    expect(glance).toContain("key = {{hastack-secret:ceph_glance_key}}");
    expect(glance).toContain('caps osd = "profile rbd pool=images"');
    const cinder = files.get("ctl1")?.get(KEYRINGS.cinder) ?? "";
    expect(cinder).toContain(
      'caps osd = "profile rbd pool=volumes, profile rbd pool=backups, profile rbd-read-only pool=images"',
    );
  });

  it("lets the glance and cinder groups read their keys and nobody else; keys of services not yet deployed stay root's", () => {
    const ctl1 = renderTopology(topology, services, ["ctl1"]).files;
    const mode = (host: string, path: string) => {
      const f = ctl1.get(host)?.find((x) => x.path === path);
      return f && [f.owner, f.group, f.mode.toString(8)];
    };
    expect(mode("ctl1", KEYRINGS.glance)).toEqual(["root", "glance", "640"]);
    expect(mode("ctl1", KEYRINGS.cinder)).toEqual(["root", "cinder", "640"]);
    const ahead = renderTopology(topology, withDeclared(["cinder"]), ["ctl1"]).files;
    const keyring = ahead.get("ctl1")?.find((x) => x.path === KEYRINGS.cinder);
    expect(keyring && [keyring.owner, keyring.group, keyring.mode.toString(8)]).toEqual([
      "root",
      "root",
      "600",
    ]);
    // client.nova's (root:nova once nova is implemented) is checked in src/services/nova/nova.test.ts.
  });

  it("gives no service key to a host when its OpenStack service is off", () => {
    const off = cephFiles(
      exampleTopology("lab", (inv) => {
        inv.services = { ...inv.services, openstack: { enabled: ["keystone"] } };
      }),
    );
    for (const path of [KEYRINGS.glance, KEYRINGS.cinder, KEYRINGS.nova])
      expect(holders(off, path)).toEqual([]);
  });

  it("names for removal exactly the service keys a host should not hold (stale-keys step)", () => {
    expect(unwantedKeyrings(topology, "cmp1")).toEqual([KEYRINGS.glance, KEYRINGS.cinder]);
    expect(unwantedKeyrings(topology, "ctl1")).toEqual([KEYRINGS.nova]);
    expect(unwantedKeyrings(topology, "sto1")).toEqual([KEYRINGS.glance, KEYRINGS.cinder, KEYRINGS.nova]);
    const noNova = exampleTopology("lab", (inv) => {
      inv.services = { ...inv.services, openstack: { enabled: ["keystone", "glance", "cinder"] } };
    });
    expect(unwantedKeyrings(noNova, "cmp1")).toEqual([KEYRINGS.glance, KEYRINGS.cinder, KEYRINGS.nova]);
    // Never one the host is given: the step would fight the files step on every deploy.
    for (const [host, files] of cephFiles(topology))
      for (const p of unwantedKeyrings(topology, host)) expect(files.has(p)).toBe(false);
  });

  it("moves the monitors and the admin key to the controllers when the inventory says so", () => {
    const t = exampleTopology("lab", (inv) => {
      Object.assign(inv.services?.ceph as object, { mons: "controller" });
    });
    const f = cephFiles(t);
    expect(holders(f, KEYRINGS.admin)).toEqual(["ctl1", "ctl2", "ctl3"]);
    expect(holders(f, KEYRINGS.bootstrap)).toEqual(["sto1", "sto2", "sto3"]);
    expect(parseIni(f.get("cmp1")?.get("/etc/ceph/ceph.conf") ?? "").global?.mon_initial_members).toBe(
      "ctl1, ctl2, ctl3",
    );
  });

  it("renders nothing for Ceph on a site that does not configure OSDs", () => {
    const t = exampleTopology("lab", (inv) => {
      delete (inv.services as Record<string, unknown>).ceph;
    });
    expect(cephFiles(t).size).toBe(0);
  });
});
