/**
 * @module
 * Keystone asked to work, through the VIP, from every controller: a password login as admin
 * issues a token (the Fernet keys, the database through its VIP and memcached all take part),
 * and the catalogue that token carries has every deployed OpenStack service with public,
 * internal and admin endpoints in the site's region.
 */
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import type { Topology } from "../../topology/types.ts";
import { isDeployed } from "../deployable.ts";
import { controllerNames } from "../hosts.ts";
import { KEYSTONE_ADMIN_SECRET } from "../openstack/identity-step.ts";
import type { ServiceDef } from "../types.ts";
import { catalogGaps, login, retryNote } from "./token.ts";

/** Catalogue names the site must have: keystone, and each deployed service that registers itself. */
export function expectedCatalog(topology: Topology, services: readonly ServiceDef[]): string[] {
  const registered = services.filter(
    (s) =>
      s.id !== "keystone" &&
      s.group === "openstack" &&
      isDeployed(s, topology) &&
      (s.steps?.(topology, services) ?? []).some((step) => step.id === "identity"),
  );
  return ["keystone", ...registered.map((s) => s.id)];
}

export function keystoneProbes(topology: Topology, services: readonly ServiceDef[] = []): ProbeSpec[] {
  const endpoint = topology.endpoints.keystone;
  if (!endpoint) return [];
  return [
    {
      id: "token",
      title: "a token issued through the VIP, its catalogue with every deployed service",
      on: "each",
      hosts: controllerNames(topology),
      weight: "redundant",
      timeoutMs: 35_000,
      async run(ctx: ProbeContext): Promise<ProbeResult> {
        const host = ctx.host;
        if (!host) return { state: "unknown", summary: "no host" };
        const started = performance.now();
        const r = await login((c, o) => ctx.exec(host.name, c, o), {
          authUrl: endpoint.internal,
          user: "admin",
          password: ctx.secret(KEYSTONE_ADMIN_SECRET),
          project: "admin",
        });
        const ms = Math.round(performance.now() - started);
        const note = retryNote(r);
        if (!r.ok)
          return { state: "down", summary: `no token from ${endpoint.internal}${note}: ${r.reason}` };
        const wanted = expectedCatalog(topology, services);
        const gaps = catalogGaps(r.catalog, wanted, topology.openstack.region);
        if (gaps.length > 0)
          return {
            state: "degraded",
            summary: `token in ${ms} ms${note}; catalogue lacks ${gaps.join(", ")}`,
            details: { gaps },
          };
        return {
          state: "ok",
          summary: `token in ${ms} ms${note}; catalogue: ${wanted.join(", ")}`,
          details: { catalog: r.catalog.map((c) => c.name) },
        };
      },
    },
  ];
}
