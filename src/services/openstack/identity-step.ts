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
import { secretNames } from "./oslo.ts";
import type { OpenStackServiceSpec } from "./spec.ts";

export interface IdentityPlan {
  /** Keystone's internal URL, where the bootstrap controller asks as admin. */
  authUrl: string;
  region: string;
  domain: "Default";
  project: "service";
  user: string;
  roles: string[];
  service: { name: string; type: string; description: string };
  endpoints: { interface: "public" | "internal" | "admin"; url: string }[];
}

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

async function register(ctx: StepContext, plan: IdentityPlan, mode: "check" | "apply"): Promise<string[]> {
  const secret = secretNames(plan.user).identity;
  const stdin = JSON.stringify({
    mode,
    plan,
    adminPassword: ctx.secret(KEYSTONE_ADMIN_SECRET),
    password: ctx.secret(secret),
  });
  const r = await ctx.transport.exec(["python3", "-c", IDENTITY_SCRIPT], {
    stdin,
    timeoutMs: 120_000,
    signal: ctx.signal,
  });
  const doing = `${mode === "check" ? "check" : "register"} the ${plan.user} service in Keystone`;
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

export function identityStep(id: string, identity: NonNullable<OpenStackServiceSpec["identity"]>): StepSpec {
  return {
    id: "identity",
    title: `Register ${id} in Keystone: service user, roles, ${identity.type} service and endpoints`,
    on: "bootstrap",
    after: ["keystone"],
    async check(ctx) {
      const missing = await register(ctx, identityPlan(ctx.topology, id, identity), "check");
      if (missing.length > 0)
        ctx.log.info(`${ctx.dryRun ? "would create" : "creating"}: ${missing.join(", ")}`);
      return missing.length === 0;
    },
    async apply(ctx) {
      await register(ctx, identityPlan(ctx.topology, id, identity), "apply");
    },
  };
}
