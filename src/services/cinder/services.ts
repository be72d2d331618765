/**
 * @module
 * Cinder's own view of its services (GET /os-services through the VIP as the cinder user, admin
 * in the service project): cinder-scheduler, cinder-volume (host `<controller>@rbd`, in the
 * site's cluster) and cinder-backup up on every controller. The deploy waits for it; status
 * judges it.
 */
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import { controllerNames } from "../hosts.ts";
import { type ApiGetInput, type Exec, serviceGet } from "../openstack/api-get.ts";
import { type OsService, OsServiceList, sameHost } from "../openstack/os-services.ts";
import { secretNames } from "../openstack/oslo.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepSpec } from "../types.ts";
import { BACKEND } from "./config.ts";

export const BINARIES = ["cinder-scheduler", "cinder-volume", "cinder-backup"] as const;

/** cinder-volume reports as `<host>@<backend>`; hosts may be FQDNs. */
export function serviceHost(service: OsService): string {
  return service.host.split("@")[0] ?? service.host;
}

/** What is missing or down, one entry per binary and controller; [] when all are up. */
export function notUp(topology: Topology, services: readonly OsService[]): string[] {
  const missing: string[] = [];
  for (const binary of BINARIES)
    for (const name of controllerNames(topology)) {
      const entry = services.find(
        (s) =>
          s.binary === binary &&
          sameHost(serviceHost(s), name) &&
          (binary !== "cinder-volume" || s.host.endsWith(`@${BACKEND}`)),
      );
      if (entry?.state !== "up") missing.push(`${binary} on ${name} (${entry ? entry.state : "not listed"})`);
    }
  return missing;
}

/** ok: all up; degraded: some down but each binary up somewhere; down: a binary up nowhere. */
export function judgeOsServices(topology: Topology, services: readonly OsService[]): ProbeResult {
  const missing = notUp(topology, services);
  const total = controllerNames(topology).length;
  const counts = BINARIES.map(
    (b) => `${b} ${total - missing.filter((m) => m.startsWith(`${b} `)).length}/${total}`,
  );
  const summary = `${counts.join(", ")} up`;
  if (missing.length === 0) return { state: "ok", summary };
  const down = BINARIES.some((b) => missing.filter((m) => m.startsWith(`${b} `)).length === total);
  return {
    state: down ? "down" : "degraded",
    summary: `${summary}; not up: ${missing.join(", ")}`,
    details: { missing },
  };
}

export function cinderServices(exec: Exec, input: ApiGetInput): Promise<OsService[]> {
  return serviceGet(exec, { service: "cinder", code: "E_CINDER" }, input, "/os-services", OsServiceList).then(
    (r) => r.services,
  );
}

/** cinder-volume waits for Ceph and the scheduler for RabbitMQ: a minute is common on the lab. */
export const SERVICES_WAIT_MS = 240_000;

export const servicesUpStep: StepSpec = {
  id: "services-up",
  title: "Wait until Cinder lists cinder-scheduler, cinder-volume and cinder-backup up on every controller",
  on: "bootstrap",
  after: ["start"],
  async check(ctx) {
    const state = await allUp(ctx);
    if (state !== true) ctx.log.info(state);
    return state === true;
  },
  async apply(ctx) {
    await waitUntil(ctx, "see every Cinder service up", () => allUp(ctx), {
      timeoutMs: SERVICES_WAIT_MS,
      intervalMs: 5000,
    });
  },
};

/**
 * true, or why not. Right after the start step HAProxy may not have checked the new backends yet
 * (HTTP 503 through the VIP, measured on the lab): an API that does not answer is a reason to
 * wait, and the wait's timeout still fails with it.
 */
async function allUp(ctx: Parameters<NonNullable<StepSpec["check"]>>[0]): Promise<true | string> {
  try {
    const missing = notUp(ctx.topology, await cinderServices(execOn(ctx), inputOf(ctx)));
    return missing.length === 0 ? true : `not up: ${missing.join(", ")}`;
  } catch (error) {
    if (error instanceof HastackError && error.code === "E_CINDER") return error.message;
    throw error;
  }
}

function execOn(ctx: Parameters<NonNullable<StepSpec["check"]>>[0]): Exec {
  return (command, opts) => ctx.transport.exec(command, { ...opts, signal: ctx.signal });
}

function inputOf(ctx: Parameters<NonNullable<StepSpec["check"]>>[0]): ApiGetInput {
  return {
    host: ctx.host.name,
    topology: ctx.topology,
    password: ctx.secret(secretNames("cinder").identity),
  };
}

export function cinderProbes(topology: Topology): ProbeSpec[] {
  if (!topology.endpoints.cinder) return [];
  return [
    {
      id: "services",
      title: "cinder-scheduler, cinder-volume and cinder-backup up on each controller (os-services)",
      on: "once",
      weight: "critical",
      timeoutMs: 60_000,
      async run(ctx: ProbeContext): Promise<ProbeResult> {
        const reasons: string[] = [];
        for (const host of controllerNames(ctx.topology)) {
          try {
            const services = await cinderServices((c, o) => ctx.exec(host, c, o), {
              host,
              topology: ctx.topology,
              password: ctx.secret(secretNames("cinder").identity),
            });
            return judgeOsServices(ctx.topology, services);
          } catch (e) {
            reasons.push(e instanceof Error ? e.message : String(e));
          }
        }
        return { state: "down", summary: reasons.join("; ") || "no controller" };
      },
    },
  ];
}
