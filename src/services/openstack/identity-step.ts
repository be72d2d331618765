/**
 * @module
 * A service's entry in Keystone: its service user (domain Default) with the admin and service
 * roles on the service project, the catalogue service of its type, and public, internal and
 * admin endpoints in the site's region on the VIP URLs of the endpoint catalogue.
 *
 * It runs after Keystone's own steps (src/services/keystone). toy-keystone.test.ts runs it against
 * a real Keystone 2025.1 of the lab image, set up by hand in a container; toy-service.test.ts
 * checks the plan (`identityPlan`).
 */
import { z } from "zod";
import type { Topology } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { IDENTITY_SCRIPT } from "./identity-script.ts";
import { type IdentityPlan, missingInKeystone } from "./keystone-check.ts";
import { secretNames } from "./oslo.ts";
import type { OpenStackServiceSpec } from "./spec.ts";

/** The Keystone admin's password (keystone's own secret; its bootstrap step creates the user). */
export const KEYSTONE_ADMIN_SECRET = "keystone_admin";

export function identityPlan(
  topology: Topology,
  id: string,
  identity: NonNullable<OpenStackServiceSpec["identity"]>,
): IdentityPlan {
  const keystone = topology.endpoints.keystone;
  const own = topology.endpoints[identity.endpoint];
  if (!keystone || !own)
    throw new HastackError(
      "E_OPENSTACK_SPEC",
      `Cannot plan the Keystone registration of ${id}: ${keystone ? `no endpoint ${identity.endpoint}` : "keystone is not enabled"}`,
      { hint: `${id} requires keystone; its endpoint ${identity.endpoint} must be one of its own endpoints` },
    );
  return {
    authUrl: keystone.internal,
    region: topology.openstack.region,
    domain: "Default",
    project: "service",
    user: id,
    // "service": keystonemiddleware's service_token_roles_required checks service tokens for it.
    roles: [...new Set(["admin", "service", ...(identity.roles ?? [])])],
    service: { name: id, type: identity.type, description: identity.description },
    // admin on the internal VIP: nothing outside the management network needs it.
    endpoints: [
      { interface: "public", url: own.public },
      { interface: "internal", url: own.internal },
      { interface: "admin", url: own.internal },
    ],
  };
}

const Answer = z.object({ missing: z.array(z.string()) });

/**
 * Runs the registration program for `plan` on the bootstrap controller: it creates or corrects
 * what is missing (keystone-check.ts finds what is). `secret` holds the user's password.
 */
export async function registerInKeystone(
  ctx: StepContext,
  plan: IdentityPlan,
  secret: string,
): Promise<string[]> {
  const stdin = JSON.stringify({
    plan,
    adminPassword: ctx.secret(KEYSTONE_ADMIN_SECRET),
    password: ctx.secret(secret),
  });
  const r = await ctx.transport.exec(["python3", "-c", IDENTITY_SCRIPT], {
    stdin,
    timeoutMs: 120_000,
    signal: ctx.signal,
  });
  const doing = `register the ${plan.user} ${plan.service ? "service" : "user"} in Keystone`;
  if (r.code !== 0) {
    const stderr = [KEYSTONE_ADMIN_SECRET, secret].reduce(
      (text, name) => text.split(ctx.secret(name)).join(`<secret:${name}>`),
      r.stderr.trim(),
    );
    throw new HastackError(
      "E_OPENSTACK_IDENTITY",
      `Cannot ${doing} on ${ctx.host.name}: exit code ${r.code}: ${stderr.split("\n").slice(-2).join(" ")}`,
      {
        hint: `Keystone must answer at ${plan.authUrl} with the admin password in secret ${KEYSTONE_ADMIN_SECRET}`,
      },
    );
  }
  let last: unknown;
  try {
    last = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
  } catch (cause) {
    last = cause;
  }
  const answer = Answer.safeParse(last);
  if (!answer.success)
    throw new HastackError("E_TOOL_OUTPUT", `Cannot ${doing} on ${ctx.host.name}: unexpected answer`, {
      cause: answer.error,
    });
  return answer.data.missing;
}

/** What `plan` lacks in Keystone, with the run's shared admin login and catalogue reads. */
export function missingFor(ctx: StepContext, plan: IdentityPlan, secret: string): Promise<string[]> {
  return missingInKeystone(
    ctx.transport,
    plan,
    { admin: ctx.secret(KEYSTONE_ADMIN_SECRET), user: ctx.secret(secret) },
    { signal: ctx.signal, shared: (key, read) => ctx.shared(key, read) },
  );
}

/** Check and register a plan in Keystone, on the bootstrap controller after Keystone's own steps. */
function registrationStep(title: string, plan: (topology: Topology) => IdentityPlan): StepSpec {
  return {
    id: "identity",
    title,
    on: "bootstrap",
    after: ["keystone"],
    async check(ctx) {
      const p = plan(ctx.topology);
      const missing = await missingFor(ctx, p, secretNames(p.user).identity);
      if (missing.length > 0)
        ctx.log.info(`${ctx.dryRun ? "would create" : "creating"}: ${missing.join(", ")}`);
      return missing.length === 0;
    },
    async apply(ctx) {
      const p = plan(ctx.topology);
      await registerInKeystone(ctx, p, secretNames(p.user).identity);
    },
  };
}

/**
 * A Keystone user of hastack's own (the instance-HA engine's): admin and service roles on the
 * service project like a service user, password secret svc_<user>, no catalogue entry.
 */
export function userStep(user: string, title: string): StepSpec {
  return registrationStep(title, (topology) => ({
    ...identityPlan(topology, user, { type: "", description: "", endpoint: "keystone" }),
    service: undefined,
    endpoints: [],
  }));
}

export function identityStep(id: string, identity: NonNullable<OpenStackServiceSpec["identity"]>): StepSpec {
  return registrationStep(
    `Register ${id} in Keystone: service user, roles, ${identity.type} service and endpoints`,
    (topology) => identityPlan(topology, id, identity),
  );
}
