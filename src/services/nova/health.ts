/**
 * @module
 * Nova's own probes, from nova's point of view (its database, through its API on the VIP): every
 * conductor and scheduler up on each controller, nova-compute up on each compute, and each
 * compute's hypervisor up. Asked from the first controller that answers, as the nova service user.
 */
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import { controllerNames } from "../hosts.ts";
import { type OsService, OsServiceList, sameHost } from "../openstack/os-services.ts";
import { secretNames } from "../openstack/oslo.ts";
import { type Hypervisor, HypervisorList, novaGet, upHosts } from "./compute-api.ts";

/** The binaries each controller runs, each needed somewhere: none up means nothing gets scheduled. */
export const CONTROLLER_BINARIES = ["nova-conductor", "nova-scheduler"] as const;

/** From the first controller whose request gets an answer; an error names each one's failure. */
async function fromAnyController<T>(
  ctx: ProbeContext,
  ask: (host: string) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
  const reasons: string[] = [];
  for (const host of controllerNames(ctx.topology)) {
    try {
      return { ok: true, value: await ask(host) };
    } catch (e) {
      reasons.push(e instanceof Error ? e.message : String(e));
    }
  }
  return { ok: false, reason: reasons.join("; ") || "no controller" };
}

/** The nova service user's request from `host` (novaGet's arguments). */
function from(ctx: ProbeContext, host: string) {
  return {
    exec: (c: string[], o: Parameters<ProbeContext["exec"]>[2]) => ctx.exec(host, c, o),
    input: { host, topology: ctx.topology, password: ctx.secret(secretNames("nova").identity) },
  };
}

/** ok: all up; degraded: some down but each binary up somewhere; down: a binary up nowhere. */
export function judgeServices(topology: Topology, services: readonly OsService[]): ProbeResult {
  const missing: string[] = [];
  let down = false;
  const parts: [string, readonly string[]][] = [
    ...CONTROLLER_BINARIES.map((b): [string, readonly string[]] => [b, controllerNames(topology)]),
    ["nova-compute", topology.roles.compute],
  ];
  const counts: string[] = [];
  for (const [binary, hosts] of parts) {
    if (hosts.length === 0) continue;
    const entries = services.filter((s) => s.binary === binary);
    const { up, missing: gone } = upHosts(hosts, entries, sameHost);
    missing.push(...gone.map((g) => `${binary} on ${g}`));
    counts.push(`${binary} ${up.length}/${hosts.length}`);
    if (up.length === 0) down = true;
  }
  const summary = `${counts.join(", ")} up`;
  if (missing.length === 0) return { state: "ok", summary, details: { missing } };
  return {
    state: down ? "down" : "degraded",
    summary: `${summary}; not up: ${missing.join(", ")}`,
    details: { missing },
  };
}

/** Every compute's hypervisor listed and up; none up is down, some missing degraded. */
export function judgeHypervisors(topology: Topology, hypervisors: readonly Hypervisor[]): ProbeResult {
  const computes = topology.roles.compute;
  const { up, missing } = upHosts(
    computes,
    hypervisors.map((h) => ({ host: h.hypervisor_hostname, state: h.state })),
    sameHost,
  );
  const summary = `${up.length}/${computes.length} hypervisors up`;
  if (missing.length === 0) return { state: "ok", summary };
  return {
    state: up.length === 0 ? "down" : "degraded",
    summary: `${summary}; not up: ${missing.join(", ")}`,
    details: { missing },
  };
}

export function novaProbes(topology: Topology): ProbeSpec[] {
  if (!topology.endpoints.nova) return [];
  const probes: ProbeSpec[] = [
    {
      id: "services",
      title:
        "nova-conductor and nova-scheduler up on each controller, nova-compute on each compute (os-services)",
      on: "once",
      weight: "critical",
      timeoutMs: 60_000,
      async run(ctx) {
        const r = await fromAnyController(ctx, (host) => {
          const { exec, input } = from(ctx, host);
          return novaGet(exec, input, "/os-services", OsServiceList);
        });
        if (!r.ok) return { state: "down", summary: r.reason };
        return judgeServices(ctx.topology, r.value.services);
      },
    },
  ];
  if (topology.roles.compute.length > 0)
    probes.push({
      id: "hypervisors",
      title: "each compute's hypervisor listed and up (os-hypervisors)",
      on: "once",
      weight: "critical",
      timeoutMs: 60_000,
      async run(ctx) {
        const r = await fromAnyController(ctx, (host) => {
          const { exec, input } = from(ctx, host);
          return novaGet(exec, input, "/os-hypervisors", HypervisorList);
        });
        if (!r.ok) return { state: "down", summary: r.reason };
        return judgeHypervisors(ctx.topology, r.value.hypervisors);
      },
    });
  return probes;
}
