import { describe, expect, it } from "vitest";
import { datapathCommand, needsVswitchdRestart, ovsDatapathType } from "./ovs.ts";
import { NeutronSettings } from "./settings.ts";

describe("the OVN chassis' OVS datapath", () => {
  const kernel = NeutronSettings.parse({});
  const userspace = NeutronSettings.parse({ datapath: "userspace" });

  it("defaults to the kernel datapath with TSO on for when userspace is chosen", () => {
    expect(kernel).toEqual({
      datapath: "kernel",
      userspace_tso: true,
      enable_distributed_floating_ip: false,
      geneve_vni_ranges: "1:65536",
    });
    expect(NeutronSettings.safeParse({ geneve_vni_ranges: "1-65536" }).success).toBe(false);
    expect(ovsDatapathType(kernel)).toBe("system");
    expect(ovsDatapathType(userspace)).toBe("netdev");
    expect(NeutronSettings.safeParse({ datapath: "netdev" }).success).toBe(false);
    expect(NeutronSettings.safeParse({ datapth: "kernel" }).success).toBe(false);
  });

  it("userspace: netdev bridges, br-int made netdev by ovn-controller, userspace TSO, in one transaction", () => {
    expect(datapathCommand(userspace, ["br-provider"]).join(" ")).toBe(
      [
        "ovs-vsctl --no-wait",
        "-- set Open_vSwitch . external_ids:ovn-bridge-datapath-type=netdev",
        "-- set Open_vSwitch . other_config:userspace-tso-enable=true",
        "-- --may-exist add-br br-provider -- set Bridge br-provider datapath_type=netdev",
      ].join(" "),
    );
  });

  it("kernel: system bridges, and the userspace-only TSO key removed (a switch back leaves no trace)", () => {
    expect(datapathCommand(kernel, ["br-provider", "br-ex2"]).join(" ")).toBe(
      [
        "ovs-vsctl --no-wait",
        "-- set Open_vSwitch . external_ids:ovn-bridge-datapath-type=system",
        "-- remove Open_vSwitch . other_config userspace-tso-enable",
        "-- --may-exist add-br br-provider -- set Bridge br-provider datapath_type=system",
        "-- --may-exist add-br br-ex2 -- set Bridge br-ex2 datapath_type=system",
      ].join(" "),
    );
    const noTso = NeutronSettings.parse({ datapath: "userspace", userspace_tso: false });
    expect(datapathCommand(noTso, [])).toContain("remove");
  });

  it("restarts ovs-vswitchd only when the TSO key changes (it is read at start)", () => {
    expect(needsVswitchdRestart({ tso: undefined }, userspace)).toBe(true);
    expect(needsVswitchdRestart({ tso: "true" }, userspace)).toBe(false);
    expect(needsVswitchdRestart({ tso: "true" }, kernel)).toBe(true);
    expect(needsVswitchdRestart({ tso: undefined }, kernel)).toBe(false);
  });
});
