import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";
import { datapathCommand } from "./ovs.ts";
import { NeutronSettings } from "./settings.ts";

/**
 * The rendered ovs-vsctl transactions against a real ovsdb-server and ovs-vswitchd from the lab
 * image (no kernel module: the userspace datapath is the one this machine can run).
 */
const START = [
  "set -e",
  "mkdir -p /run/openvswitch /etc/openvswitch",
  "ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema",
  "ovsdb-server /etc/openvswitch/conf.db --remote=punix:/run/openvswitch/db.sock --pidfile --detach --log-file=/tmp/ovsdb.log",
  "ovs-vsctl --no-wait init",
].join("\n");

// ovs-vsctl's JSON: one row, each column as ["map", [[key, value]...]] in the asked order.
const OvsMap = z.tuple([z.literal("map"), z.array(z.tuple([z.string(), z.string()]))]);
const OpenVswitchRow = z.object({ data: z.tuple([z.tuple([OvsMap, OvsMap])]) });
const SHOW = "ovs-vsctl --no-wait --format=json --columns=other_config,external_ids list Open_vSwitch";

function maps(
  stdout: string,
  marker: string,
): { other: Record<string, string>; external: Record<string, string> } {
  const line = stdout.split("\n").find((l) => l.startsWith(marker));
  const row = OpenVswitchRow.parse(JSON.parse(line?.slice(marker.length) ?? "null"));
  const [other, external] = row.data[0];
  return { other: Object.fromEntries(other[1]), external: Object.fromEntries(external[1]) };
}

function sh(argv: string[]): string {
  return argv.map((a) => `'${a}'`).join(" ");
}

describe("OVS datapath settings on real Open vSwitch", () => {
  beforeAll(async () => {
    await toolRoot();
  }, 1_800_000);

  it("userspace: ovs-vswitchd runs the bridge on the netdev datapath with TSO; re-run and kernel switch-back converge", async () => {
    const userspace = sh(datapathCommand(NeutronSettings.parse({ datapath: "userspace" }), ["br-provider"]));
    const kernel = sh(datapathCommand(NeutronSettings.parse({ datapath: "kernel" }), ["br-provider"]));
    const result = await runInImage(
      [
        START,
        userspace,
        // TSO is read at start: ovs-vswitchd starts after the transaction, as the deploy will order it.
        "ovs-vswitchd --pidfile --detach --log-file=/tmp/vswitchd.log unix:/run/openvswitch/db.sock",
        "ovs-vsctl --timeout=30 wait-until Bridge br-provider datapath_type=netdev",
        "echo DPIF; ovs-appctl --timeout=30 dpif/show",
        `echo "NETDEV $(${SHOW})"`,
        userspace,
        `echo "AGAIN $(${SHOW})"`,
        "echo BRIDGES $(ovs-vsctl list-br | tr '\\n' ' ')",
        kernel,
        `echo "KERNEL $(${SHOW})"`,
        "echo KERNEL_BRIDGE $(ovs-vsctl --no-wait get Bridge br-provider datapath_type)",
        "echo LOG; cat /tmp/vswitchd.log",
      ].join("\n"),
      { timeoutMs: 90_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const netdev = maps(result.stdout, "NETDEV ");
    expect(netdev.other["userspace-tso-enable"]).toBe("true");
    expect(netdev.external["ovn-bridge-datapath-type"]).toBe("netdev");
    expect(maps(result.stdout, "AGAIN ")).toEqual(netdev);
    expect(result.stdout).toMatch(/netdev@ovs-netdev/);
    expect(result.stdout).toMatch(/br-provider/);
    expect(result.stdout).toMatch(/Userspace TCP Segmentation Offloading support enabled/);
    expect(result.stdout).toMatch(/^BRIDGES br-provider$/m);
    const back = maps(result.stdout, "KERNEL ");
    expect(back.other["userspace-tso-enable"]).toBeUndefined();
    expect(back.external["ovn-bridge-datapath-type"]).toBe("system");
    expect(result.stdout).toContain("KERNEL_BRIDGE system");
  }, 120_000);
});
