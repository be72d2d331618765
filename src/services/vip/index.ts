import type { ProbeContext, ProbeResult } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import type { ServiceDef } from "../types.ts";

/**
 * The VIPs as a layer of their own: whoever manages them (Pacemaker or keepalived), status must
 * say who holds each one, checked on the wire: exactly one controller has the address and every
 * ARP reply for it comes from that controller's MAC. Two holders is split brain.
 */
export const vip: ServiceDef = {
  id: "vip",
  state: "implemented",
  title: "Virtual IPs",
  hosts: (t) => t.roles.controller,
  health: (t) =>
    allVips(t).map(([name, address]) => ({
      id: name,
      title: `VIP ${address}`,
      on: "once" as const,
      weight: "critical" as const,
      run: (ctx: ProbeContext) => probeVip(ctx, address),
    })),
};

export function allVips(t: Topology): [string, string][] {
  const out = new Map<string, string>([[t.vips.internal, "internal"]]);
  if (!out.has(t.vips.public)) out.set(t.vips.public, "public");
  for (const [service, address] of Object.entries(t.vips.services))
    if (!out.has(address)) out.set(address, service);
  return [...out].map(([address, name]) => [name, address]);
}

interface HolderView {
  host: string;
  iface?: string;
  mac?: string;
  holds: boolean;
  arpMacs: string[];
}

async function probeVip(ctx: ProbeContext, address: string): Promise<ProbeResult> {
  const views = await Promise.all(ctx.topology.roles.controller.map((host) => look(ctx, host, address)));
  const reachable = views.filter((v) => v.iface);
  const holders = views.filter((v) => v.holds);
  const arpMacs = [...new Set(views.flatMap((v) => v.arpMacs))];
  const details = { holders: holders.map((h) => h.host), arpMacs, asked: reachable.map((v) => v.host) };
  if (reachable.length === 0) return { state: "unknown", summary: "no controller reachable", details };
  if (holders.length === 0) return { state: "down", summary: `${address} is held by no controller`, details };
  if (holders.length > 1) {
    return {
      state: "down",
      summary: `SPLIT BRAIN: ${address} is up on ${holders.map((h) => h.host).join(" and ")}`,
      details,
    };
  }
  const holder = holders[0] as HolderView;
  const strangers = arpMacs.filter((m) => m !== holder.mac);
  if (strangers.length > 0) {
    return {
      state: "down",
      summary: `${address} on ${holder.host}, but ARP replies also come from ${strangers.join(", ")}`,
      details,
    };
  }
  const wire =
    arpMacs.length > 0 ? `ARP answers from ${holder.mac}` : "not confirmed on the wire (no peer to ask)";
  return { state: "ok", summary: `held by ${holder.host}, ${wire}`, details };
}

async function look(ctx: ProbeContext, host: string, address: string): Promise<HolderView> {
  const view: HolderView = { host, holds: false, arpMacs: [] };
  const own = ctx.topology.hosts.find((h) => h.name === host)?.ip ?? "";
  const addrs = await ctx.exec(host, ["ip", "-o", "-4", "addr", "show"]).catch(() => undefined);
  if (addrs?.code !== 0) return view;
  for (const line of addrs.stdout.split("\n")) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line);
    if (!m) continue;
    if (m[2] === address) view.holds = true;
    if (m[2] === own) view.iface = (m[1] ?? "").replace(/@.*$/, "");
  }
  if (!view.iface) return view;
  const mac = await ctx.exec(host, ["cat", `/sys/class/net/${view.iface}/address`]).catch(() => undefined);
  view.mac = mac?.stdout.trim().toLowerCase();
  if (!view.holds) {
    // iputils arping: "Unicast reply from 10.20.0.10 [02:AB:...]  0.7ms"
    const arp = await ctx
      .exec(host, ["arping", "-c", "2", "-w", "2", "-I", view.iface, address])
      .catch(() => undefined);
    for (const m of arp?.stdout.matchAll(/reply from [\d.]+ \[([0-9a-fA-F:]+)\]/g) ?? []) {
      view.arpMacs.push((m[1] ?? "").toLowerCase());
    }
  }
  return view;
}

/** Which of `hosts` have `address` up, asked through `run` (SSH, or the lab's namespaces). */
export async function vipHolders(
  run: (host: string, argv: string[]) => Promise<{ code: number; stdout: string } | undefined>,
  hosts: readonly string[],
  address: string,
): Promise<string[]> {
  const views = await Promise.all(
    hosts.map(async (host) => {
      const result = await run(host, ["ip", "-o", "-4", "addr", "show"]).catch(() => undefined);
      return result?.code === 0 && result.stdout.includes(` ${address}/`) ? host : undefined;
    }),
  );
  return views.filter((h): h is string => h !== undefined);
}
