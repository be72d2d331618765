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
import { PRIORITY_KEY, parsePlacement } from "../capacity.ts";
import type { StoredEvent } from "../store.ts";
import { serverRows, sleep } from "./guests.ts";
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
 * Tags each VM with its priority (the i-th booted: 10 * i, the first none, so 0) and marks the
 * lowest as the ones that must stay; then holds the other computes' memory so that exactly
 * `room` of the drill's VMs fit. Returns the timeline line and how to release the holds.
 */
export async function squeeze(
  deps: Pick<DrillDeps, "admin">,
  ports: RoomPorts,
  o: { host: string; vms: VmOutcome[]; room: number },
): Promise<{ line: string; release: () => Promise<void> }> {
  for (const [i, vm] of o.vms.entries()) {
    vm.priority = i * 10;
    vm.stays = i < o.vms.length - o.room;
    if (i > 0)
      await deps.admin.run([
        ...["--os-compute-api-version", "2.26", "server", "set"],
        ...["--tag", `${PRIORITY_KEY}=${vm.priority}`, vm.id],
      ]);
  }
  const providers = parsePlacement(await ports.placement.providers());
  const failed = providers.find((p) => p.name.split(".")[0] === o.host);
  const first = o.vms[0];
  if (!failed || !first) throw new Error(`Cannot find ${o.host}'s resource provider in Placement`);
  const memory = (await ports.placement.allocations(first.id))[failed.uuid]?.MEMORY_MB ?? 0;
  if (memory <= 0) throw new Error(`Cannot read the memory ${first.name} holds on ${o.host} in Placement`);

  const consumers: string[] = [];
  const release = async () => {
    for (const c of consumers) await ports.holds.release(c);
  };
  const held: string[] = [];
  try {
    let room = o.room;
    for (const p of providers.filter((x) => x !== failed)) {
      const inv = p.inventories.MEMORY_MB;
      if (!inv) continue;
      const free = Math.floor((inv.total - inv.reserved) * inv.allocation_ratio) - (p.usages.MEMORY_MB ?? 0);
      // Room for `room` VMs on the first other compute and for none elsewhere: half a VM spare.
      let hold = free - room * memory - Math.floor(memory / 2);
      room = 0;
      held.push(`${p.name.split(".")[0]} ${Math.max(0, hold)} MB`);
      // One allocation may not exceed max_unit (the host's memory): the rest under another consumer.
      while (hold > 0) {
        const part = Math.min(hold, inv.max_unit ?? hold);
        const consumer = randomUUID();
        consumers.push(consumer);
        await ports.holds.hold(consumer, p.uuid, { MEMORY_MB: part });
        hold -= part;
      }
    }
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  const order = [...o.vms].reverse().map((v) => `${v.name} ${v.priority}`);
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
  deps: Pick<DrillDeps, "admin" | "history">,
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
  for (const row of await serverRows(deps.admin, o.tag)) {
    const vm = left.find((v) => v.id === row.ID);
    if (!vm) continue;
    const where = row.Host?.split(".")[0];
    if (row.Status === "ERROR" || where !== o.host)
      problems.push(
        `${vm.name} (priority ${vm.priority}, no room for it) is ${row.Status} on ${where ?? "no host"}, not left on ${o.host}`,
      );
  }
  return problems;
}
