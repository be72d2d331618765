/**
 * @module
 * Will the failed host's VMs fit elsewhere? Decided before the fence, from Placement's own
 * numbers, so that a full cloud evacuates its most important VMs and reports the rest instead of
 * leaving every one of them in ERROR (NoValidHost), which is what every peer does.
 *
 * The input has Placement's shapes: per resource provider, `GET /resource_providers/{uuid}/inventories`
 * (`inventories`) and `.../usages` (`usages`). Capacity follows Placement's rule:
 * (total - reserved) * allocation_ratio, and one allocation must lie within min_unit..max_unit
 * and be a multiple of step_size.
 */
import { z } from "zod";
import { HastackError } from "../util/errors.ts";

const Inventory = z.object({
  total: z.int().min(0),
  reserved: z.int().min(0).default(0),
  allocation_ratio: z.number().positive().default(1),
  min_unit: z.int().min(1).default(1),
  max_unit: z.int().min(1).optional(),
  step_size: z.int().min(1).default(1),
});
export type Inventory = z.output<typeof Inventory>;

export const ResourceProvider = z.object({
  uuid: z.string().min(1),
  /** For a compute node: the hypervisor's hostname, which is also the Nova service's host. */
  name: z.string().min(1),
  inventories: z.record(z.string(), Inventory),
  usages: z.record(z.string(), z.int().min(0)),
});
export type ResourceProvider = z.output<typeof ResourceProvider>;

/** Placement's answers for every provider, checked: what the plan reads is what it expects. */
export function parsePlacement(raw: unknown): ResourceProvider[] {
  const parsed = z.array(ResourceProvider).safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `at ${issue.path.join(".")}` : "at the top";
  throw new HastackError(
    "E_HA_PLACEMENT_DATA",
    `Cannot plan an evacuation from Placement's data: ${where}: ${issue?.message}`,
    {
      hint: "the plan reads GET /resource_providers/{uuid}/inventories and /usages (Placement 1.x)",
    },
  );
}

/**
 * The compute nodes among Placement's providers, each renamed to its Nova host (what evacuate and
 * the services take). Placement names a compute node's provider after the hypervisor's hostname
 * (cmp1.example.org), which need not be `<host>.<domain>`; the compute node's uuid is its
 * provider's (Nova 2.53+), so the mapping goes through it. Other providers are left out.
 */
export function computeProviders(
  raw: unknown,
  computeNodes: readonly { id: string; serviceHost: string }[],
): ResourceProvider[] {
  const byUuid = new Map(computeNodes.map((h) => [h.id, h]));
  return parsePlacement(raw).flatMap((p) => {
    const node = byUuid.get(p.uuid);
    return node ? [{ ...p, name: node.serviceHost }] : [];
  });
}

/** The server tag, and the flavor extra spec, that set a VM's evacuation priority: `hastack:priority=10`. */
export const PRIORITY_KEY = "hastack:priority";
const PRIORITY_RANGE = 1_000_000;

/**
 * A VM's evacuation priority: its server tag `hastack:priority=N` (the owner's word, per VM)
 * before its flavor's extra spec `hastack:priority` (the operator's, per class of VM); 0 without
 * either. An integer within +-1,000,000; anything else is ignored, and `ignored` says so.
 */
export function priorityOf(server: {
  tags: readonly string[];
  extraSpecs: Readonly<Record<string, string>>;
}): { priority: number; ignored?: string } {
  const tag = server.tags.find((t) => t.startsWith(`${PRIORITY_KEY}=`));
  const spec = server.extraSpecs[PRIORITY_KEY];
  const from =
    tag !== undefined ? `tag ${tag}` : spec !== undefined ? `extra spec ${PRIORITY_KEY}=${spec}` : "";
  const text = tag !== undefined ? tag.slice(PRIORITY_KEY.length + 1) : spec;
  if (text === undefined) return { priority: 0 };
  const n = /^[-+]?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (Number.isSafeInteger(n) && Math.abs(n) <= PRIORITY_RANGE) return { priority: n };
  return { priority: 0, ignored: `${from}: not an integer within +-${PRIORITY_RANGE}, priority 0 instead` };
}

/** A VM of the failed host, with what its flavor asks of Placement. */
export interface Evacuee {
  uuid: string;
  /** Higher goes first (from a server tag or a flavor extra spec); 0 by default. */
  priority: number;
  /** Per resource class: VCPU, MEMORY_MB, DISK_GB (root + ephemeral + swap, 0 when booted from a volume)... */
  resources: Readonly<Record<string, number>>;
}

export interface PlanInput {
  providers: readonly ResourceProvider[];
  vms: readonly Evacuee[];
  /** The failed host (provider name): never a target. */
  failedHost: string;
  /** Other hosts that must not receive VMs: in trouble, disabled, or failed in the same cycle. */
  exclude?: readonly string[];
}

export interface Plan {
  /** VM uuid -> target provider name, in the order they were placed (priority, then size). */
  placements: { vm: string; target: string }[];
  /** The VMs that fit nowhere, each with the reason. */
  unplaced: { vm: string; reason: string }[];
}

interface Bin {
  name: string;
  inventories: Record<string, Inventory>;
  free: Record<string, number>;
}

/**
 * Spread, decreasing: VMs by priority, then by size (their largest share of the free total of
 * one resource class), each onto the host with the most memory left at that point (then by name)
 * among those it fits. Spread rather than packed (first fit): Nova serializes the rebuilds bound
 * for one compute on that compute's `compute_resources` lock (twice per VM: the claim, then
 * finish_evacuation), so ten VMs sent to one host wait for twenty holds in a row while the other
 * hosts idle, and one target takes the whole failed host's load. On the lab with 4 computes first
 * fit sent all ten VMs to cmp2; spread they went 4/3/3, though the whole took as long there
 * (115.9 s p50 against 127.1 s), the lab's two cores being busy throughout (docs/tuning.md).
 * Deterministic: the same data gives the same plan, so a standby engine that takes over plans the same.
 */
export function planEvacuation(input: PlanInput): Plan {
  const excluded = new Set([input.failedHost, ...(input.exclude ?? [])]);
  const bins: Bin[] = input.providers
    .filter((p) => !excluded.has(p.name))
    .map((p) => ({ name: p.name, inventories: p.inventories, free: freeOf(p) }));
  const roomiestFirst = () =>
    bins.sort((a, b) => (b.free.MEMORY_MB ?? 0) - (a.free.MEMORY_MB ?? 0) || a.name.localeCompare(b.name));

  const totalFree: Record<string, number> = {};
  for (const bin of bins) {
    for (const [rc, amount] of Object.entries(bin.free))
      totalFree[rc] = (totalFree[rc] ?? 0) + Math.max(0, amount);
  }
  const sizes = new Map<Evacuee, number>();
  for (const vm of input.vms) {
    let largest = 0;
    for (const [rc, amount] of Object.entries(vm.resources)) {
      const free = totalFree[rc] ?? 0;
      largest = Math.max(largest, free > 0 ? amount / free : amount > 0 ? Number.POSITIVE_INFINITY : 0);
    }
    sizes.set(vm, largest);
  }
  const size = (vm: Evacuee) => sizes.get(vm) ?? 0;
  const order = [...input.vms].sort(
    (a, b) => b.priority - a.priority || size(b) - size(a) || a.uuid.localeCompare(b.uuid),
  );

  const plan: Plan = { placements: [], unplaced: [] };
  for (const vm of order) {
    const target = roomiestFirst().find((bin) => fits(bin, vm) === undefined);
    if (target) {
      for (const [rc, amount] of Object.entries(vm.resources))
        target.free[rc] = (target.free[rc] ?? 0) - amount;
      plan.placements.push({ vm: vm.uuid, target: target.name });
      continue;
    }
    plan.unplaced.push({ vm: vm.uuid, reason: whyNot(bins, vm) });
  }
  return plan;
}

function freeOf(provider: ResourceProvider): Record<string, number> {
  const free: Record<string, number> = {};
  for (const [rc, inv] of Object.entries(provider.inventories)) {
    const capacity = Math.floor((inv.total - inv.reserved) * inv.allocation_ratio);
    free[rc] = capacity - (provider.usages[rc] ?? 0);
  }
  return free;
}

/** Undefined when the VM fits on the bin, else what stops it. */
function fits(bin: Bin, vm: Evacuee): string | undefined {
  for (const [rc, amount] of Object.entries(vm.resources)) {
    if (amount <= 0) continue;
    const inv = bin.inventories[rc];
    if (!inv) return `no ${rc}`;
    if (
      amount < inv.min_unit ||
      (inv.max_unit !== undefined && amount > inv.max_unit) ||
      amount % inv.step_size !== 0
    ) {
      return `${rc} ${amount} outside its units`;
    }
    const free = bin.free[rc] ?? 0;
    if (amount > free) return `${rc} ${amount} > ${free} free`;
  }
  return undefined;
}

function whyNot(bins: readonly Bin[], vm: Evacuee): string {
  const asks = Object.entries(vm.resources)
    .filter(([, amount]) => amount > 0)
    .map(([rc, amount]) => `${rc} ${amount}`)
    .join(", ");
  if (bins.length === 0) return `no host left to take it (needs ${asks})`;
  // The first few hosts (the roomiest at the start) say enough; 500 would drown the history.
  const each = bins.slice(0, 3).map((bin) => `${bin.name}: ${fits(bin, vm)}`);
  if (bins.length > 3) each.push(`${bins.length - 3} more`);
  return `fits on no host (needs ${asks}): ${each.join("; ")}`;
}
