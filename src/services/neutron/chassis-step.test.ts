import { describe, expect, it } from "vitest";
import { exampleTopology, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { recordingTransport, runStep } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { chassisStep } from "./chassis-step.ts";
import { fixture } from "./test-fixtures.ts";

const registry = withOpenStackImplemented(services);
// examples/lab.yaml: services.neutron.datapath userspace, every chassis with prov0 on the provider network.
const topology = exampleTopology("lab", undefined, registry);
const step = chassisStep(["ctl1", "ctl2", "ctl3", "cmp1", "cmp2"]);
const SHOW = "ovs-vsctl --format=json --columns=external_ids,other_config list Open_vSwitch";
const SB = "tcp:10.20.0.11:6642,tcp:10.20.0.12:6642,tcp:10.20.0.13:6642";

/** A chassis host whose OVS database holds what the transaction wrote (the captured answers). */
function chassisHost(name: string, configured = false, manager = "ptcp:6640:127.0.0.1") {
  let ovs = false;
  let ovn = false;
  let written = configured;
  const t = recordingTransport(name, (argv) => {
    if (/^systemctl is-(enabled|active) .*(openvswitch|ovsdb|ovs-vswitchd)/.test(argv))
      return ovs ? {} : { code: 3 };
    if (/^systemctl is-(enabled|active) .*ovn-/.test(argv)) return ovn ? {} : { code: 3 };
    if (argv.startsWith("systemctl start openvswitch-switch")) ovs = true;
    if (argv.startsWith("systemctl start ovn-host")) ovn = true;
    if (argv === SHOW) return { stdout: fixture(written ? "ovs-chassis-cmp1.json" : "ovs-fresh.json") };
    if (argv.startsWith("ovs-vsctl --no-wait")) written = true;
    if (argv === "ovs-vsctl get Bridge br-provider datapath_type")
      return written
        ? { stdout: "netdev\n" }
        : { code: 1, stderr: 'ovs-vsctl: no row "br-provider" in table Bridge' };
    if (argv === "ovs-vsctl list-ports br-provider") return written ? { stdout: "prov0\n" } : { code: 1 };
    if (argv === "ovs-vsctl get-manager") return { stdout: written ? `${manager}\n` : "" };
    return argv.startsWith("systemctl") || argv.startsWith("ovs-vsctl") ? {} : undefined;
  });
  function setRunning(): void {
    ovs = true;
    ovn = true;
  }
  return { t, setRunning };
}

describe("the chassis step on a compute (userspace datapath)", () => {
  it("starts OVS, writes datapath, br-provider with prov0 and the chassis ids in one transaction, restarts vswitchd for TSO, starts ovn-controller", async () => {
    const { t } = chassisHost("cmp1");
    const r = await runStep({
      service: "neutron",
      step,
      host: "cmp1",
      topology,
      services: registry,
      transport: t,
      secrets: {},
    });
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    const changes = t.seen
      .map((s) => s.argv)
      .filter((a) => /^systemctl (enable|start|restart) |^ovs-vsctl --no-wait/.test(a));
    expect(changes).toEqual([
      "systemctl enable openvswitch-switch.service",
      "systemctl start openvswitch-switch.service ovsdb-server.service ovs-vswitchd.service",
      [
        "ovs-vsctl --no-wait",
        "-- set Open_vSwitch . external_ids:ovn-bridge-datapath-type=netdev",
        "-- set Open_vSwitch . other_config:userspace-tso-enable=true",
        "-- --may-exist add-br br-provider -- set Bridge br-provider datapath_type=netdev",
        "-- --may-exist add-port br-provider prov0",
        '-- set Open_vSwitch . external_ids:system-id="cmp1"',
        '-- set Open_vSwitch . external_ids:hostname="cmp1"',
        `-- set Open_vSwitch . external_ids:ovn-remote="${SB}"`,
        '-- set Open_vSwitch . external_ids:ovn-remote-probe-interval="5000"',
        '-- set Open_vSwitch . external_ids:ovn-encap-type="geneve"',
        '-- set Open_vSwitch . external_ids:ovn-encap-ip="10.20.0.21"',
        '-- set Open_vSwitch . external_ids:ovn-bridge-mappings="provider:br-provider"',
        "-- remove Open_vSwitch . external_ids ovn-cms-options",
        // nova-compute's os-vif reaches OVSDB as user nova: loopback TCP, not root's socket.
        "-- set-manager ptcp:6640:127.0.0.1",
      ].join(" "),
      "systemctl restart ovs-vswitchd.service",
      "systemctl enable ovn-host.service",
      "systemctl start ovn-host.service ovn-controller.service",
    ]);
  });

  it("a configured chassis whose ids drifted (the remotes of an old site) is not done, and says what differs", async () => {
    const stale = recordingTransport("cmp1", (argv) => {
      if (argv === SHOW) return { stdout: fixture("ovs-chassis-cmp1.json").replace(SB, "tcp:10.9.9.9:6642") };
      if (argv.endsWith("datapath_type")) return { stdout: "netdev\n" };
      if (argv === "ovs-vsctl list-ports br-provider") return { stdout: "prov0\n" };
      if (argv === "ovs-vsctl get-manager") return { stdout: "ptcp:6640:127.0.0.1\n" };
      return argv.startsWith("systemctl") ? {} : undefined;
    });
    const r = await runStep({
      service: "neutron",
      step: { ...step, apply: async () => {} },
      host: "cmp1",
      topology,
      services: registry,
      transport: stale,
      secrets: {},
    });
    expect(r.before).toBe(false);
    expect(r.log[0]).toBe(`ovn-remote: tcp:10.9.9.9:6642 -> ${SB}`);
  });

  it("the captured chassis (written by the real ovs-vsctl from this transaction) passes the check as is", async () => {
    const { t, setRunning } = chassisHost("cmp1", true);
    setRunning();
    const r = await runStep({
      service: "neutron",
      step,
      host: "cmp1",
      topology,
      services: registry,
      transport: t,
      secrets: {},
    });
    expect(r).toMatchObject({ before: true, applied: false });
    // On a controller the same answers lack the gateway option and carry cmp1's name.
    const ctl = chassisHost("ctl1", true);
    ctl.setRunning();
    const log: string[] = [];
    const c = await runStep({
      service: "neutron",
      step: { ...step, apply: async () => {} },
      host: "ctl1",
      topology,
      services: registry,
      transport: ctl.t,
      secrets: {},
    });
    log.push(...c.log);
    expect(c.before).toBe(false);
    expect(log[0]).toContain("system-id: cmp1 -> ctl1");
    expect(log[0]).toContain("ovn-cms-options: (none) -> enable-chassis-as-gw");
    expect(log[0]).toContain("ovn-encap-ip: 10.20.0.21 -> 10.20.0.11");
  });
});

describe("the chassis step and OVSDB's loopback listener", () => {
  it("a chassis without the loopback manager is not done (guests' taps could not be plugged)", async () => {
    // Everything else as the real ovs-vsctl left it, and no manager (Debian's default).
    const { t, setRunning } = chassisHost("cmp1", true, "");
    setRunning();
    const r = await runStep({
      service: "neutron",
      step: { ...step, apply: async () => {} },
      host: "cmp1",
      topology,
      services: registry,
      transport: t,
      secrets: {},
    });
    expect(r.before).toBe(false);
    expect(r.log.join("\n")).toContain("ovsdb-server not listening on ptcp:6640:127.0.0.1");
  });
});
