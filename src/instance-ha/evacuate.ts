/**
 * @module
 * Nova's side of a host failure, after the fence: force the host's nova-compute down and
 * disable it, then evacuate the plan's servers a few at a time, following each until it runs on
 * another host, fails, or runs out of time; a failed one is tried once more. Every server ends in
 * the report with where it went, how often it was tried and how long it took, or why it was left.
 *
 * A server is only ever evacuated from the failed host: it is read again right before each
 * request, so a server another engine (or an operator) moved already is reported, not moved twice.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { Nova, Server } from "../openstack/nova.ts";
import { HastackError } from "../util/errors.ts";
import { runLimited } from "../util/run-limited.ts";
import type { Plan } from "./capacity.ts";
import { arrived, requestAndTrack, type Tracker, track, whyNot, words } from "./evacuate-track.ts";
import type { Ledger } from "./evacuation-ledger.ts";

export const EvacuateSettings = z.strictObject({
  parallel: z
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe("evacuations in flight at once for one failed host (Masakari runs 3, RHOSO 8 per host)"),
  evacuation_timeout_s: z
    .int()
    .min(1)
    .default(300)
    .describe("an evacuation not finished after this long counts as failed (RHOSO's bound, 300 s)"),
  poll_ms: z.int().min(10).default(2000).describe("how often a server in flight is read"),
  use_plan_targets: z
    .boolean()
    .default(true)
    .describe("send each server to the plan's target host (the scheduler still checks it); false: it picks"),
});
export type EvacuateSettings = z.output<typeof EvacuateSettings>;

/** The start of every disabled_reason hastack writes: what tells its own disable from an operator's. */
export const DISABLED_BY = "hastack instance-ha";

export type ServerOutcome = "evacuated" | "failed" | "skipped";

export interface ServerReport {
  id: string;
  name: string;
  /** The failed host. */
  from: string;
  /** Where it runs now, once evacuated (or found evacuated). */
  to?: string;
  /** Evacuate requests this engine sent: 0 when skipped or when it followed a rebuild asked for before it, 2 at most. */
  attempts: number;
  status: ServerOutcome;
  /** Why it failed or was skipped. */
  reason?: string;
  /** From the start of the host's evacuation to this server's end. */
  seconds: number;
}

export interface EvacuationReport {
  host: string;
  servers: ServerReport[];
  /** The count `evacuation-finished` carries. */
  failed: number;
  /** What may be incomplete about the report itself. */
  warnings: string[];
  seconds: number;
}

/** What happens, as it happens: the engine keeps these in the host's history. */
export type EvacuationProgress =
  | { kind: "service-forced-down"; host: string; serviceId: string }
  | { kind: "service-disabled"; host: string; serviceId: string; reason: string }
  | { kind: "server-evacuating"; id: string; attempt: number; target?: string }
  | { kind: "server-retrying"; id: string; reason: string }
  | { kind: "server-done"; report: ServerReport };

export interface EvacuateInput {
  /** The failed host: its Nova service host, also its Placement provider's name. */
  host: string;
  plan: Plan;
  nova: Nova;
  settings?: z.input<typeof EvacuateSettings>;
  onProgress?: (event: EvacuationProgress) => void;
  /**
   * The engine's record of each server (evacuation-ledger.ts): claimed before Nova is asked, so
   * no server is asked twice across an engine failover. None for an operator's `ha evacuate`.
   */
  ledger?: Ledger;
  /** @default () => new Date() (the disabled reason's time) */
  clock?: () => Date;
}

interface Run extends Tracker {
  settings: EvacuateSettings;
  emit: (event: EvacuationProgress) => void;
  seconds: () => number;
  ledger?: Ledger;
}

/**
 * Evacuates a fenced host. Throws (E_HA_EVACUATE) only when the service cannot be forced down
 * and disabled: Nova refuses evacuations from a host it counts as up, so there is nothing to try.
 */
export async function evacuateHost(input: EvacuateInput): Promise<EvacuationReport> {
  const settings = EvacuateSettings.parse(input.settings ?? {});
  const started = performance.now();
  const run: Run = {
    host: input.host,
    nova: input.nova,
    settings,
    emit: input.onProgress ?? (() => {}),
    seconds: () => Math.round((performance.now() - started) / 100) / 10,
    ...(input.ledger ? { ledger: input.ledger } : {}),
    record: async (id, update) => input.ledger?.record(id, update),
  };
  const when = (input.clock ?? (() => new Date()))()
    .toISOString()
    .replace(/\.\d+Z$/, "Z");
  await fenceService(run, `${DISABLED_BY}: ${input.host} failed, evacuating since ${when}`);

  const left: ServerReport[] = [];
  const leave = (id: string, name: string, reason: string) => {
    const report: ServerReport = {
      id,
      name,
      from: run.host,
      attempts: 0,
      status: "skipped",
      reason,
      seconds: 0,
    };
    left.push({ ...report, seconds: run.seconds() });
    run.emit({ kind: "server-done", report: { ...report, seconds: run.seconds() } });
  };
  const warnings: string[] = [];
  // Only to find what the plan missed: when Nova cannot list, the plan is evacuated all the same.
  const onHost = await run.nova.serversOnHost(run.host).catch((cause: unknown) => {
    warnings.push(`servers not in the plan may be left on ${run.host}: ${words(cause)}`);
    return [];
  });
  const names = new Map(onHost.map((s) => [s.id, s.name]));
  for (const { vm, reason } of input.plan.unplaced) {
    leave(vm, names.get(vm) ?? "", `no room: ${reason}`);
    // In the ledger too, so `ha status` lists what was left and why; a standby's plan says the same.
    const refused = await run.ledger
      ?.claim({ id: vm, name: names.get(vm) ?? "" })
      .catch((e: unknown) => `cannot claim it: ${words(e)}`);
    if (run.ledger && refused === undefined)
      await run.record(vm, { status: "unplaced", detail: `no room: ${reason}`, finished: true });
  }
  const planned = new Set([...input.plan.placements, ...input.plan.unplaced].map((p) => p.vm));
  for (const server of onHost) {
    // Booted (or moved back) after the plan was made: its size was not counted.
    if (!planned.has(server.id)) leave(server.id, server.name, "not in the evacuation plan");
  }

  // The plan's order is its priority order, so the most important go first.
  const done = await runLimited(input.plan.placements, settings.parallel, (p) =>
    evacuateOne(run, p.vm, settings.use_plan_targets ? p.target : undefined),
  );
  const servers = [...done, ...left];
  const failed = servers.filter((s) => s.status === "failed").length;
  return { host: run.host, servers, failed, warnings, seconds: run.seconds() };
}

/**
 * force_down first: Nova then counts the service down at once and takes evacuations (without it,
 * not before service_down_time, 60 s). Then disable, so the scheduler sends nothing to the host
 * when it comes back. A service someone already disabled keeps their reason (and re-enable leaves it).
 */
async function fenceService(run: Run, reason: string): Promise<void> {
  try {
    const services = await run.nova.computeServices(run.host);
    if (services.length === 0)
      throw new HastackError(
        "E_HA_EVACUATE",
        `Cannot evacuate ${run.host}: Nova has no nova-compute service there`,
      );
    for (const service of services) {
      await run.nova.forceDown(service.id, true);
      run.emit({ kind: "service-forced-down", host: run.host, serviceId: service.id });
      if (service.status === "disabled") continue;
      await run.nova.disableService(service.id, reason);
      run.emit({ kind: "service-disabled", host: run.host, serviceId: service.id, reason });
    }
  } catch (cause) {
    if (cause instanceof HastackError && cause.code === "E_HA_EVACUATE") throw cause;
    throw new HastackError("E_HA_EVACUATE", `Cannot evacuate ${run.host}: ${words(cause)}`, { cause });
  }
}

/** One server: at most two evacuate requests, each only while the server is still on the failed host. */
async function evacuateOne(run: Run, id: string, target: string | undefined): Promise<ServerReport> {
  let name = "";
  // The tries this engine made, a rebuild it followed included (what the loop goes by)...
  let attempts = 0;
  // ...and the requests it sent to Nova (what the report says).
  let sent = 0;
  let failure = "";
  // This engine's claim won (or it follows a predecessor's rebuild, whose row it updates).
  let owned = false;
  const end = async (status: ServerOutcome, extra: { to?: string; reason?: string }) => {
    if (owned && status !== "skipped")
      await run.record(id, {
        status: status === "evacuated" ? "done" : "failed",
        ...(sent ? { attempts: sent } : {}),
        finished: true,
        ...(extra.to ? { to: extra.to } : {}),
        ...(extra.reason ? { detail: extra.reason } : {}),
      });
    else if (owned)
      await run.record(id, { status: "failed", detail: `left: ${extra.reason}`, finished: true });
    const report: ServerReport = {
      id,
      name,
      from: run.host,
      attempts: sent,
      status,
      ...extra,
      seconds: run.seconds(),
    };
    run.emit({ kind: "server-done", report });
    return report;
  };
  for (let attempt = 1; attempt <= 2; attempt++) {
    let server: Server | undefined;
    try {
      server = await run.nova.server(id);
    } catch (cause) {
      failure = `cannot read it: ${words(cause)}`;
      if (attempt === 2) break;
      await sleep(run.settings.poll_ms);
      continue;
    }
    if (!server) return end("skipped", { reason: "deleted (Nova no longer knows it)" });
    name = server.name;
    const landed = arrived(run, server, server);
    if (landed)
      return end(
        attempts ? "evacuated" : "skipped",
        attempts ? { to: landed } : { reason: `already on ${landed}` },
      );
    if (attempts === 0 && server.taskState?.startsWith("rebuild")) {
      // Requested before this engine took over (the active one died mid-evacuation) or by
      // hand: followed to its end like our own, never requested a second time; a failure is
      // retried once like our own.
      attempts = attempt;
      owned = true;
      const followed = await track(run, server);
      if (followed.to) return end("evacuated", { to: followed.to });
      if (followed.deleted) return end("skipped", { reason: followed.reason });
      failure = `${followed.reason} (a rebuild under way before this engine took it up)`;
      if (attempt === 1) run.emit({ kind: "server-retrying", id, reason: failure });
      continue;
    }
    const refusal = whyNot(run, server);
    if (refusal) {
      if (attempts === 0) return end("skipped", { reason: refusal });
      return end("failed", { reason: `${failure}; not tried again: ${refusal}` });
    }
    if (run.ledger && !owned) {
      let holder: string | undefined;
      try {
        holder = await run.ledger.claim({ id, name });
      } catch (cause) {
        // Unknown whether another engine owns it: asking Nova now could ask twice.
        failure = `cannot claim it in the history, not asked: ${words(cause)}`;
        if (attempt === 2) break;
        await sleep(run.settings.poll_ms);
        continue;
      }
      if (holder) return end("skipped", { reason: holder });
      owned = true;
    }
    attempts = attempt;
    // The retry lets the scheduler choose: the planned target may be what failed.
    const to = attempt === 1 ? target : undefined;
    run.emit({ kind: "server-evacuating", id, attempt, ...(to ? { target: to } : {}) });
    sent += 1;
    const outcome = await requestAndTrack(run, server, to, sent);
    if (outcome.to) return end("evacuated", { to: outcome.to });
    if (outcome.deleted) return end("skipped", { reason: outcome.reason });
    failure = outcome.reason;
    if (attempt === 1) {
      run.emit({ kind: "server-retrying", id, reason: failure });
      await sleep(run.settings.poll_ms);
    }
  }
  return end("failed", { reason: failure });
}
