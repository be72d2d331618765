import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseInventory } from "../testing/fixtures.ts";
import { labInventory, renderEtcHosts, renderInventory } from "./inventory.ts";
import { hostVeth, LAB_NETWORKS, planLab } from "./plan.ts";

describe("planLab", () => {
  it("gives the default site the addressing plan's octets", () => {
    const plan = planLab();
    expect(plan.hosts.map((h) => `${h.name}=${h.octet}`)).toEqual([
      "ctl1=11",
      "ctl2=12",
      "ctl3=13",
      "cmp1=21",
      "cmp2=22",
      "sto1=31",
      "sto2=32",
      "sto3=33",
    ]);
  });

  it("attaches networks by role and puts each BMC at 100 + octet", () => {
    const plan = planLab();
    const ctl1 = plan.hosts[0];
    const cmp1 = plan.hosts[3];
    const sto1 = plan.hosts[5];
    expect(ctl1?.addresses).toEqual({
      management: "10.20.0.11",
      storage: "10.21.0.11",
      provider: "10.22.0.11",
      bmc: "10.29.0.11",
    });
    expect(cmp1?.addresses).toEqual({
      management: "10.20.0.21",
      storage: "10.21.0.21",
      provider: "10.22.0.21",
    });
    expect(sto1?.addresses).toEqual({ management: "10.20.0.31", storage: "10.21.0.31" });
    expect(cmp1?.bmcAddress).toBe("10.29.0.121");
  });

  it("continues computes past nine at .101", () => {
    const plan = planLab({ controllers: 1, computes: 11, storage: 0 });
    const octets = plan.hosts.filter((h) => h.role === "compute").map((h) => h.octet);
    expect(octets.slice(8)).toEqual([29, 101, 102]);
    expect(plan.hosts.at(-1)?.bmcAddress).toBe("10.29.0.202");
  });

  it("refuses sizes the address plan cannot hold", () => {
    expect(() => planLab({ controllers: 0, computes: 1, storage: 1 })).toThrow(/--controllers/);
    expect(() => planLab({ controllers: 3, computes: 2, storage: 10 })).toThrow(/--storage/);
    expect(() => planLab({ controllers: 3, computes: 1.5, storage: 1 })).toThrow(/--computes/);
  });

  it("keeps host-side veth names within the kernel's 15 characters", () => {
    const plan = planLab({ controllers: 9, computes: 63, storage: 9 });
    for (const host of plan.hosts) {
      for (const net of host.networks) expect(hostVeth(host.name, net).length).toBeLessThanOrEqual(15);
    }
    const all = plan.hosts.flatMap((h) => [h.bmcAddress, ...Object.values(h.addresses)]);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("labInventory", () => {
  it("parses with the inventory schema", () => {
    const inv = parseInventory(YAML.parse(renderInventory(planLab())));
    expect(inv.cluster).toBe("lab");
    expect(inv.vips.internal).toBe("10.20.0.10");
    expect(Object.keys(inv.hosts)).toHaveLength(8);
    expect(inv.hosts.cmp2?.bmc).toMatchObject({ address: "10.29.0.122", port: 623, user: "admin" });
    expect(inv.hosts.cmp2?.bmc?.password_secret).toBe("bmc_cmp2");
    expect(inv.hosts.ctl1?.interfaces).toEqual({
      management: "mgmt0",
      storage: "stor0",
      provider: "prov0",
      bmc: "bmc0",
    });
    expect(inv.ssh).toMatchObject({ user: "root", key: "./id_ed25519", known_hosts: "./known_hosts" });
  });

  it("never contains a BMC password", () => {
    const text = JSON.stringify(labInventory(planLab()));
    expect(text).not.toMatch(/password"\s*:/);
  });

  it("lists every host in /etc/hosts on the management network", () => {
    const hosts = renderEtcHosts(planLab());
    expect(hosts).toContain(`${LAB_NETWORKS.management.prefix}.33\tsto3.cluster.local sto3`);
  });
});
