/**
 * @module
 * An OpenStack service's own RabbitMQ user on the OpenStack vhost (one user per service, so a
 * leaked nova.conf does not speak as cinder). Asked and set through the management API on the
 * bootstrap controller's loopback as hastack's administrator: each rabbitmqctl call boots an
 * Erlang VM, and on the lab's busy controllers these steps took 33-140 s with it. Passwords go
 * on curl's stdin, never in argv; answers are read through zod.
 */
import {
  type MgmtCredentials,
  mgmtPermission,
  mgmtPut,
  mgmtUser,
  passwordMatches,
} from "../../hostkit/rabbitmq-http.ts";
import { HastackError } from "../../util/errors.ts";
import { adminCredentials } from "../rabbitmq/admin.ts";
import { hasFullRights } from "../rabbitmq/listings.ts";
import { rabbitmqSettings } from "../rabbitmq/settings.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { secretNames } from "./oslo.ts";

/** oslo.messaging declares exchanges and queues of any name in the vhost, so all three are ".*". */
const FULL = ".*";

export type AmqpGap = "user" | "password" | "permissions";

/** Says which step failed and what to look at: the management API is the rabbitmq service's. */
function wrap(e: unknown): never {
  const error = e instanceof Error ? e : new Error(String(e));
  throw new HastackError("E_OPENSTACK_AMQP", error.message, {
    cause: error,
    hint: "the rabbitmq steps must have run: is rabbitmq-server up on this controller, with its management API on 127.0.0.1?",
  });
}

/** What is not yet as wanted for `user` on `vhost`. */
export async function amqpGaps(ctx: StepContext, user: string, vhost: string): Promise<AmqpGap[]> {
  const admin = adminCredentials(ctx.topology, ctx.secret);
  const opts = { signal: ctx.signal };
  const [found, rights] = await Promise.all([
    mgmtUser(ctx.transport, user, admin, opts),
    mgmtPermission(ctx.transport, vhost, user, admin, opts),
  ]).catch((e: unknown) => wrap(e));
  if (!found) return ["user", "permissions"];
  const gaps: AmqpGap[] = [];
  if (!passwordMatches(found, ctx.secret(secretNames(user).amqp))) gaps.push("password");
  if (!hasFullRights(rights)) gaps.push("permissions");
  return gaps;
}

async function put(ctx: StepContext, admin: MgmtCredentials, path: string, body: unknown, what: string) {
  await mgmtPut(ctx.transport, path, body, admin, what, { signal: ctx.signal }).catch((e: unknown) =>
    wrap(e),
  );
}

export function amqpStep(user: string): StepSpec {
  const secret = secretNames(user).amqp;
  // What the engine's check just found, per host: apply acts on it instead of asking again.
  const found = new Map<string, AmqpGap[]>();
  return {
    id: "amqp-user",
    title: `Create the RabbitMQ user ${user} with rights on the OpenStack vhost`,
    on: "bootstrap",
    after: ["rabbitmq"],
    async check(ctx) {
      const gaps = await amqpGaps(ctx, user, rabbitmqSettings(ctx.topology).vhost);
      found.set(ctx.host.name, gaps);
      if (gaps.length > 0) ctx.log.info(`${ctx.dryRun ? "would set" : "setting"}: ${gaps.join(", ")}`);
      return gaps.length === 0;
    },
    async apply(ctx) {
      const { vhost } = rabbitmqSettings(ctx.topology);
      const gaps = found.get(ctx.host.name) ?? (await amqpGaps(ctx, user, vhost));
      found.delete(ctx.host.name);
      const admin = adminCredentials(ctx.topology, ctx.secret);
      const u = encodeURIComponent(user);
      // A PUT of the user sets its password (and no tags: a service needs no management access).
      if (gaps.includes("user") || gaps.includes("password"))
        await put(
          ctx,
          admin,
          `/api/users/${u}`,
          { password: ctx.secret(secret), tags: "" },
          `set the RabbitMQ user ${user}`,
        );
      if (gaps.includes("permissions"))
        await put(
          ctx,
          admin,
          `/api/permissions/${encodeURIComponent(vhost)}/${u}`,
          { configure: FULL, write: FULL, read: FULL },
          `give ${user} its rights on the RabbitMQ vhost ${vhost}`,
        );
    },
  };
}
