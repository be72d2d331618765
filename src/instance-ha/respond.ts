/**
 * @module
 * One failed compute, answered in the only safe order: plan (do its VMs fit elsewhere?), fence
 * (confirmed, or nothing more happens), then Nova (force down, disable, evacuate and track each
 * VM). The engine runs this for a host its state machine and gates let through; `hastack ha
 * evacuate` runs it for a host the operator names. Every step is a timeline line with the time
 * since the start, so a drill or an operator sees failure -> fenced -> force_down -> each VM.
 */
import type { z } from "zod";
import type { Nova } from "../openstack/nova.ts";
import type { Placement } from "../openstack/placement.ts";
import { computeProviders, type Evacuee, type Plan, planEvacuation, priorityOf } from "./capacity.ts";
import { type EvacuateSettings, type EvacuationReport, evacuateHost } from "./evacuate.ts";
import type { Ledger } from "./evacuation-ledger.ts";
import type { FenceResult } from "./fence.ts";

export interface RespondDeps {
  nova: Nova;
  placement: Placement;
  /** Fences the host (fence.ts's fenceHost with its target and means bound). */
  fence: () => Promise<FenceResult>;
  /** Every VM's disks are on Ceph (Nova's images in RBD, volumes from Ceph): a storage fence covers them. */
  disksOnCeph: boolean;
  settings?: z.input<typeof EvacuateSettings>;
  /** The engine's record of each server's evacuation; none for an operator's `ha evacuate`. */
  ledger?: Ledger;
  /** Each timeline line as it happens. */
  log?: (line: string) => void;
}

export type RespondOutcome =
  | "planned" // dry run: nothing was touched
  | "not-fenced" // the fence was not confirmed: nothing was evacuated
  | "evacuated" // every planned VM is ACTIVE elsewhere
  | "partial"; // some VMs failed, were skipped, or fit nowhere

export interface RespondReport {
  host: string;
  outcome: RespondOutcome;
  plan: Plan;
  fence?: FenceResult;
  evacuation?: EvacuationReport;
  timeline: string[];
  seconds: number;
}

/** The host's VMs with what each holds on it (Placement allocations), and the plan for them. */
export async function planFor(
  host: string,
  nova: Nova,
  placement: Placement,
): Promise<{ plan: Plan; servers: number; excluded: string[]; ignored: string[] }> {
  const [servers, raw, hypervisors] = await Promise.all([
    nova.serversOnHost(host),
    placement.providers(),
    nova.hypervisors(),
  ]);
  const providers = computeProviders(raw, hypervisors);
  const failed = providers.find((p) => p.name === host);
  const ignored: string[] = [];
  const vms: Evacuee[] = await Promise.all(
    servers.map(async (s) => {
      const held = await placement.allocations(s.id);
      const { priority, ignored: why } = priorityOf(s);
      if (why) ignored.push(`${s.id} (${s.name}): ${why}`);
      return { uuid: s.id, priority, resources: (failed && held[failed.uuid]) || {} };
    }),
  );
  // Computes Nova will not schedule to (disabled, or down) are no target, whatever Placement says.
  const excluded = hypervisors
    .filter((h) => h.serviceHost !== host && (h.state !== "up" || h.status !== "enabled"))
    .map((h) => h.serviceHost);
  return {
    plan: planEvacuation({ providers, vms, failedHost: host, exclude: excluded }),
    servers: servers.length,
    excluded,
    ignored,
  };
}

/** A timeline whose lines carry the time since its start, each also handed to `log`. */
function timeline(log: ((line: string) => void) | undefined) {
  const started = performance.now();
  const lines: string[] = [];
  return {
    lines,
    seconds: () => (performance.now() - started) / 1000,
    note(line: string): void {
      const stamped = `${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`;
      lines.push(stamped);
      log?.(stamped);
    },
  };
}
type Timeline = ReturnType<typeof timeline>;

/** The fence's outcome, and whether it allows an evacuation (a storage fence needs every disk on Ceph). */
export interface FenceStep {
  fence: FenceResult;
  /** False: nothing may be evacuated; the engine treats it as a fence that failed. */
  evacuable: boolean;
  detail: string;
  timeline: string[];
}

async function fenceWith(host: string, deps: RespondDeps, t: Timeline): Promise<FenceStep> {
  const fence = await deps.fence();
  t.note(
    fence.ok
      ? `fenced by ${fence.method} in ${(fence.ms / 1000).toFixed(1)} s: ${fence.detail}`
      : fence.detail,
  );
  if (!fence.ok) return { fence, evacuable: false, detail: fence.detail, timeline: t.lines };
  if (fence.method === "storage" && !deps.disksOnCeph) {
    const detail = `${host} was fenced in storage only, and its VMs' disks are not all on Ceph: none is evacuated`;
    t.note(detail);
    return { fence, evacuable: false, detail, timeline: t.lines };
  }
  return { fence, evacuable: true, detail: fence.detail, timeline: t.lines };
}

/**
 * The fence alone, for the engine: its state machine must see the fence confirmed (and its gates
 * must be asked again) before anything is evacuated, so fence and evacuation are two actions there.
 */
export function fenceStep(host: string, deps: RespondDeps): Promise<FenceStep> {
  return fenceWith(host, deps, timeline(deps.log));
}

/**
 * The evacuation of a host fenced already (by `fenceStep`, or before an engine failover): plans
 * again from what Nova and Placement say now, so a standby that re-drives a host mid-evacuation
 * only moves the servers still on it (evacuate.ts reads each again before its request).
 */
export async function evacuateStep(
  host: string,
  deps: RespondDeps,
  fence: FenceResult,
): Promise<RespondReport> {
  const t = timeline(deps.log);
  const plan = await noteThePlan(host, deps, t);
  return evacuateWith(host, deps, t, plan, fence);
}

async function noteThePlan(host: string, deps: RespondDeps, t: Timeline): Promise<Plan> {
  const { plan, servers, excluded, ignored } = await planFor(host, deps.nova, deps.placement);
  for (const line of ignored) t.note(`plan: priority of ${line}`);
  const skipping = excluded.length ? ` (not onto ${excluded.join(", ")}: disabled or down)` : "";
  t.note(
    `plan: ${servers} server(s) on ${host}; ${plan.placements.length} fit elsewhere, ${plan.unplaced.length} fit nowhere${skipping}`,
  );
  for (const u of plan.unplaced) t.note(`plan: ${u.vm} fits nowhere: ${u.reason}`);
  return plan;
}

function report(
  host: string,
  t: Timeline,
  outcome: RespondOutcome,
  plan: Plan,
  rest: Partial<RespondReport> = {},
): RespondReport {
  return { host, outcome, plan, timeline: t.lines, seconds: t.seconds(), ...rest };
}

export async function respondToFailure(
  host: string,
  deps: RespondDeps,
  options: { dryRun?: boolean } = {},
): Promise<RespondReport> {
  const t = timeline(deps.log);
  const plan = await noteThePlan(host, deps, t);
  if (options.dryRun) return report(host, t, "planned", plan);
  const step = await fenceWith(host, deps, t);
  if (!step.evacuable) return report(host, t, "not-fenced", plan, { fence: step.fence });
  return evacuateWith(host, deps, t, plan, step.fence);
}

async function evacuateWith(
  host: string,
  deps: RespondDeps,
  t: Timeline,
  plan: Plan,
  fence: FenceResult,
): Promise<RespondReport> {
  const note = t.note;
  const evacuation = await evacuateHost({
    host,
    plan,
    nova: deps.nova,
    ...(deps.settings ? { settings: deps.settings } : {}),
    ...(deps.ledger ? { ledger: deps.ledger } : {}),
    onProgress: (p) => {
      if (p.kind === "service-forced-down") note(`nova-compute on ${host} forced down`);
      else if (p.kind === "service-disabled") note(`nova-compute on ${host} disabled: ${p.reason}`);
      else if (p.kind === "server-evacuating")
        note(
          `server ${p.id}: evacuate requested (attempt ${p.attempt}${p.target ? `, to ${p.target}` : ""})`,
        );
      else if (p.kind === "server-retrying") note(`server ${p.id}: retrying: ${p.reason}`);
      else {
        const r = p.report;
        const where = r.to ? ` on ${r.to}` : "";
        note(`server ${r.id} (${r.name}): ${r.status}${where}${r.reason ? `: ${r.reason}` : ""}`);
      }
    },
  });
  const whole =
    evacuation.failed === 0 &&
    plan.unplaced.length === 0 &&
    evacuation.servers.every((s) => s.status === "evacuated");
  note(
    `${evacuation.servers.filter((s) => s.status === "evacuated").length}/${evacuation.servers.length} evacuated, ${evacuation.failed} failed`,
  );
  return report(host, t, whole ? "evacuated" : "partial", plan, { fence, evacuation });
}
