/**
 * @module
 * compute-capacity-short: the site is too full for every VM of a failed compute. The drill gives
 * its VMs evacuation priorities (server tags `hastack:priority=N`, the first VM none), then
 * leaves the other computes room for only some of them by holding the rest of their memory in
 * Placement for a consumer that is no server (Nova's audit keeps such an allocation, and the
 * scheduler counts it like any other). After the plug is pulled, the engine must move the VMs
 * that fit, highest priority first, leave the others where they were (not in ERROR), and say in
 * its history which it left and why.
 */
import { randomUUID } from "node:crypto";
import type { Placement, PlacementHolds } from "../../openstack/placement.ts";
import { computeProviders, PRIORITY_KEY, type ResourceProvider } from "../capacity.ts";
import type { StoredEvent } from "../store.ts";
import { readServers, shortHost, sleep } from "./guests.ts";
import type { VmOutcome } from "./report.ts";
import type { DrillDeps } from "./types.ts";

export interface RoomPorts {
  placement: Placement;
  holds: PlacementHolds;
}

/** How many of `vms` VMs the squeezed site has room for: about half, at least one. */
export function roomFor(vms: number): number {
  return Math.max(1, Math.floor(vms / 2));
}

/**
 * How much memory to hold on each other compute so that exactly `room` VMs of `memory` MB fit:
 * room for them on the first, with half a VM spare, and for none elsewhere. A compute fuller than
 * that to begin with is an error: fewer VMs would fit than the drill marked, and it would fail on
 * VMs "not moved" for a reason that is not the engine's.
 */
export function holdPlan(
  others: readonly ResourceProvider[],
  memory: number,
  room: number,
): { provider: ResourceProvider; mb: number }[] {
  let left = room;
  return others.flatMap((provider) => {
    const inv = provider.inventories.MEMORY_MB;
    if (!inv) return [];
    const free =
      Math.floor((inv.total - inv.reserved) * inv.allocation_ratio) - (provider.usages.MEMORY_MB ?? 0);
    if (left > 0 && free < left * memory)
      throw new Error(
        `Cannot squeeze ${provider.name}: it has ${free} MB of memory free in Placement, less than the ${left * memory} MB the drill must leave for ${left} VM(s): the site is too full for this drill before it starts`,
      );
    const mb = Math.max(0, free - left * memory - Math.floor(memory / 2));
    left = 0;
    return [{ provider, mb }];
  });
}

/**
 * Tags each VM with its priority (the i-th booted: 10 * i, the first none, so 0) and marks the
 * lowest as the ones that must stay; then holds the other computes' memory so that exactly
 * `room` of the drill's VMs fit. Returns the timeline line and how to release the holds.
 */
export async function squeeze(
  deps: Pick<DrillDeps, "admin" | "nova">,
  ports: RoomPorts,
  o: { host: string; vms: VmOutcome[]; room: number },
): Promise<{ line: string; release: () => Promise<void> }> {
  // Named by Nova's hosts, through the compute nodes' uuids, as the engine's plan does (respond.ts).
  const [raw, nodes] = await Promise.all([ports.placement.providers(), deps.nova.hypervisors()]);
  const providers = computeProviders(raw, nodes);
  const failed = providers.find((p) => p.name === o.host);
  const first = o.vms[0];
  if (!failed || !first) throw new Error(`Cannot find ${o.host}'s resource provider in Placement`);
  const memory = (await ports.placement.allocations(first.id))[failed.uuid]?.MEMORY_MB ?? 0;
  if (memory <= 0) throw new Error(`Cannot read the memory ${first.name} holds on ${o.host} in Placement`);
  const plan = holdPlan(
    providers.filter((p) => p !== failed),
    memory,
    o.room,
  );

  for (const [i, vm] of o.vms.entries()) {
    vm.priority = i * 10;
    vm.stays = i < o.vms.length - o.room;
    if (i > 0)
      await deps.admin.run([
        ...["--os-compute-api-version", "2.26", "server", "set"],
        ...["--tag", `${PRIORITY_KEY}=${vm.priority}`, vm.id],
      ]);
  }
  const consumers: string[] = [];
  const release = async () => {
    for (const c of consumers) await ports.holds.release(c);
  };
  try {
    for (const { provider, mb } of plan) {
      // One allocation may not exceed max_unit (the host's memory): the rest under another consumer.
      for (let hold = mb; hold > 0; ) {
        const part = Math.min(hold, provider.inventories.MEMORY_MB?.max_unit ?? hold);
        const consumer = randomUUID();
        consumers.push(consumer);
        await ports.holds.hold(consumer, provider.uuid, { MEMORY_MB: part });
        hold -= part;
      }
    }
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  const order = [...o.vms].reverse().map((v) => `${v.name} ${v.priority}`);
  const held = plan.map(({ provider, mb }) => `${provider.name} ${mb} MB`);
  return {
    line: `priorities ${order.join(", ")}; memory held in Placement (${held.join(", ")}): room for ${o.room} of ${o.vms.length} (${memory} MB each)`,
    release,
  };
}

/**
 * Once the VMs that fit are ACTIVE elsewhere: those that had to stay are still on the failed host
 * and not in ERROR, and the engine's history names each of them in its evacuation's end.
 */
export async function checkLeft(
  deps: Pick<DrillDeps, "nova" | "history">,
  o: { host: string; tag: string; vms: VmOutcome[]; off: Date; note: (line: string) => void },
): Promise<string[]> {
  const problems: string[] = [];
  const left = o.vms.filter((v) => v.stays);
  // The engine writes the end of the evacuation when its last VM settles: a little after.
  let end: StoredEvent | undefined;
  for (let i = 0; i < 60 && !end; i++) {
    end = (await deps.history(o.host, o.off).catch(() => [])).find(
      (e) => e.kind === "evacuation" && typeof e.data?.outcome === "string",
    );
    if (!end) await sleep(1000);
  }
  if (!end) problems.push(`the engine's history has no end of ${o.host}'s evacuation`);
  else {
    if (end.data?.outcome !== "partial")
      problems.push(`the evacuation of ${o.host} ended ${String(end.data?.outcome)}, not partial`);
    // The entry names five at most (the rest are counted, and in `ha status`).
    const detail = end.detail;
    const named = left.filter((vm) => detail.includes(vm.id));
    if (named.length < Math.min(5, left.length))
      problems.push(
        `the engine's end of the evacuation names ${named.length} of the ${left.length} VM(s) left for no room`,
      );
    o.note(`engine: ${end.detail}`);
  }
  for (const { vm, server } of await readServers(deps.nova, o.tag, left)) {
    const at = shortHost(server?.host);
    if (server?.status === "ERROR" || at !== o.host)
      problems.push(
        `${vm.name} (priority ${vm.priority}, no room for it) is ${server?.status ?? "gone"} on ${at ?? "no host"}, not left on ${o.host}`,
      );
  }
  return problems;
}
