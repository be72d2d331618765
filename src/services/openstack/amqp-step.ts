/**
 * @module
 * An OpenStack service's own RabbitMQ user on the OpenStack vhost (one user per service, so a
 * leaked nova.conf does not speak as cinder). rabbitmqctl on the bootstrap controller; passwords
 * on stdin, never in argv; listings read as JSON through zod.
 */
import { HastackError } from "../../util/errors.ts";
import { hasFullRights, rabbitUsers, vhostRights } from "../rabbitmq/listings.ts";
import { rabbitmqSettings } from "../rabbitmq/settings.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { secretNames } from "./oslo.ts";

/** oslo.messaging declares exchanges and queues of any name in the vhost, so all three are ".*". */
const FULL = ".*";

export type AmqpGap = "user" | "password" | "permissions";

async function rabbitmqctl(ctx: StepContext, argv: string[], doing: string, stdin?: string): Promise<string> {
  const r = await ctx.transport.exec(["rabbitmqctl", ...argv], {
    timeoutMs: 60_000,
    signal: ctx.signal,
    ...(stdin === undefined ? {} : { stdin }),
  });
  if (r.code !== 0)
    throw new HastackError(
      "E_OPENSTACK_AMQP",
      `Cannot ${doing} on ${ctx.host.name}: exit code ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-2).join(" ")}`,
      { hint: "the rabbitmq steps must have run: is rabbitmq-server up on this controller?" },
    );
  return r.stdout;
}

/**
 * What is not yet as wanted for `user` on `vhost`. The user list and the vhost's permissions are
 * the run's shared listings (every service's check asks the same); the password is this user's.
 */
export async function amqpGaps(ctx: StepContext, user: string, vhost: string): Promise<AmqpGap[]> {
  const password = ctx.secret(secretNames(user).amqp);
  // Asked together: each rabbitmqctl starts an Erlang VM. Without -q: with it, rabbitmqctl never
  // reads stdin and waits forever (RabbitMQ 4.0.5). A vhost that cannot be listed gives no rights.
  const [users, auth, rights] = await Promise.all([
    rabbitUsers(ctx),
    ctx.transport.exec(["rabbitmqctl", "authenticate_user", user], {
      stdin: `${password}\n`,
      timeoutMs: 60_000,
      signal: ctx.signal,
    }),
    vhostRights(ctx, vhost).catch(() => undefined),
  ]);
  if (!users.includes(user)) return ["user", "permissions"];
  const gaps: AmqpGap[] = [];
  if (auth.code !== 0) gaps.push("password");
  if (!hasFullRights(rights?.get(user))) gaps.push("permissions");
  return gaps;
}

export function amqpStep(user: string): StepSpec {
  const secret = secretNames(user).amqp;
  // What the engine's check just found, per host: apply acts on it instead of asking again
  // (each rabbitmqctl call starts an Erlang VM, seconds on a busy controller).
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
      const password = `${ctx.secret(secret)}\n`;
      if (gaps.includes("user"))
        await rabbitmqctl(ctx, ["add_user", user], `create the RabbitMQ user ${user}`, password);
      else if (gaps.includes("password"))
        await rabbitmqctl(ctx, ["change_password", user], `set the RabbitMQ password of ${user}`, password);
      if (gaps.includes("permissions"))
        await rabbitmqctl(
          ctx,
          ["-q", "set_permissions", "-p", vhost, user, FULL, FULL, FULL],
          `give ${user} its rights on the RabbitMQ vhost ${vhost}`,
        );
    },
  };
}
