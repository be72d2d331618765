/**
 * @module
 * Every controller and compute made an OVN chassis: Open vSwitch running with the chosen datapath,
 * br-provider holding the provider NIC, the chassis' external_ids set (chassis.ts), then
 * ovn-controller started, which registers the chassis in the southbound database.
 */
import { enabledOf, inactiveOf, startDeliberately, systemctl } from "../../hostkit/systemd.ts";
import { lastLine } from "../../util/text.ts";
import type { StepContext, StepSpec } from "../types.ts";
import {
  chassisExternalIds,
  externalIdArgs,
  externalIdDrift,
  OVS_SHOW,
  OVSDB_LOCAL_MANAGER,
  type OvsState,
  parseOvsState,
  providerInterface,
} from "./chassis.ts";
import { PROVIDER_BRIDGE } from "./config.ts";
import { datapathCommand, needsVswitchdRestart, ovsDatapathType } from "./ovs.ts";
import { neutronSettings } from "./settings.ts";

/** openvswitch-switch is a oneshot that pulls ovsdb-server and ovs-vswitchd in: those must run. */
export const OVS_ENABLED = ["openvswitch-switch.service"];
export const OVS_RUNNING = ["ovsdb-server.service", "ovs-vswitchd.service"];
/** ovn-host is the oneshot that wants ovn-controller (PartOf), the daemon that must run. */
export const OVN_CONTROLLER_ENABLED = ["ovn-host.service"];
export const OVN_CONTROLLER_RUNNING = ["ovn-controller.service"];

async function ovsState(ctx: StepContext): Promise<OvsState> {
  return parseOvsState(ctx.transport, (await ctx.run(OVS_SHOW)).stdout);
}

/** What still differs on this chassis, [] when nothing does (each entry is a log line). */
export async function chassisDrift(ctx: StepContext): Promise<string[]> {
  const drift: string[] = [];
  const settings = neutronSettings(ctx.topology);
  const state = await ovsState(ctx);
  const type = ovsDatapathType(settings);
  drift.push(
    ...externalIdDrift(state.external, {
      ...chassisExternalIds(ctx.topology, ctx.host),
      "ovn-bridge-datapath-type": type,
    }),
  );
  if (needsVswitchdRestart({ tso: state.other["userspace-tso-enable"] }, settings))
    drift.push("userspace-tso-enable differs from the datapath setting");
  const managers = await ctx.transport.exec(["ovs-vsctl", "get-manager"]);
  if (!managers.stdout.split("\n").includes(OVSDB_LOCAL_MANAGER))
    drift.push(`ovsdb-server not listening on ${OVSDB_LOCAL_MANAGER} (nova-compute's os-vif needs it)`);
  const nic = providerInterface(ctx.host);
  if (nic) {
    const r = await ctx.transport.exec(["ovs-vsctl", "get", "Bridge", PROVIDER_BRIDGE, "datapath_type"]);
    if (r.code !== 0) drift.push(`no bridge ${PROVIDER_BRIDGE}`);
    else if (r.stdout.trim() !== type)
      drift.push(`${PROVIDER_BRIDGE} datapath_type ${r.stdout.trim()}, not ${type}`);
    const ports = await ctx.transport.exec(["ovs-vsctl", "list-ports", PROVIDER_BRIDGE]);
    if (!ports.stdout.split("\n").includes(nic)) drift.push(`${nic} not a port of ${PROVIDER_BRIDGE}`);
  }
  return drift;
}

async function unitsDrift(ctx: StepContext, enabled: string[], running: string[]): Promise<string[]> {
  const on = await enabledOf(ctx.transport, enabled);
  const off = enabled.filter((u) => !on.includes(u)).map((u) => `${u} not enabled`);
  const stopped = (await inactiveOf(ctx.transport, running)).map((u) => `${u} not running`);
  return [...off, ...stopped];
}

async function enableAndStart(ctx: StepContext, enabled: string[], running: string[]): Promise<void> {
  const on = await enabledOf(ctx.transport, enabled);
  const off = enabled.filter((u) => !on.includes(u));
  if (off.length > 0) await systemctl(ctx.transport, "enable", off);
  const stopped = await inactiveOf(ctx.transport, [...enabled, ...running]);
  if (stopped.length > 0) await startDeliberately(ctx.transport, "start", stopped);
}

export function chassisStep(hosts: string[]): StepSpec {
  return {
    id: "chassis",
    title:
      "Open vSwitch with the chosen datapath, br-provider with the provider NIC, the chassis' OVN external_ids; ovn-controller running",
    on: "each",
    hosts,
    async check(ctx) {
      const units = await unitsDrift(ctx, OVS_ENABLED, OVS_RUNNING);
      // Without ovsdb-server nothing else can be read.
      const drift = units.length > 0 ? units : await chassisDrift(ctx);
      drift.push(...(await unitsDrift(ctx, OVN_CONTROLLER_ENABLED, OVN_CONTROLLER_RUNNING)));
      if (drift.length > 0) ctx.log.info(lastLine(drift.join("; "), 400));
      return drift.length === 0;
    },
    async apply(ctx) {
      const settings = neutronSettings(ctx.topology);
      await enableAndStart(ctx, OVS_ENABLED, OVS_RUNNING);
      const before = await ovsState(ctx);
      const nic = providerInterface(ctx.host);
      const bridges = nic ? [PROVIDER_BRIDGE] : [];
      // One transaction: datapath, bridge, NIC and external_ids land together or not at all.
      await ctx.run([
        ...datapathCommand(settings, bridges),
        ...(nic ? ["--", "--may-exist", "add-port", PROVIDER_BRIDGE, nic] : []),
        ...externalIdArgs(chassisExternalIds(ctx.topology, ctx.host)),
        "--",
        "set-manager",
        OVSDB_LOCAL_MANAGER,
      ]);
      if (needsVswitchdRestart({ tso: before.other["userspace-tso-enable"] }, settings)) {
        ctx.log.info("restarting ovs-vswitchd: it reads userspace-tso-enable only at start");
        await startDeliberately(ctx.transport, "restart", ["ovs-vswitchd.service"]);
      }
      await enableAndStart(ctx, OVN_CONTROLLER_ENABLED, OVN_CONTROLLER_RUNNING);
    },
  };
}
