/**
 * @module
 * An OpenStack service's own RabbitMQ user on the OpenStack vhost (one user per service, so a
 * leaked nova.conf does not speak as cinder). rabbitmqctl on the bootstrap controller; passwords
 * on stdin, never in argv; listings read as JSON through zod.
 */
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";
import { rabbitmqSettings } from "../rabbitmq/settings.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { secretNames } from "./oslo.ts";

const Users = z.array(z.object({ user: z.string() }));
const Permissions = z.array(
  z.object({ vhost: z.string(), configure: z.string(), write: z.string(), read: z.string() }),
);

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

function parsed<T>(schema: z.ZodType<T>, text: string, what: string, host: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() || "[]");
  } catch (cause) {
    value = cause;
  }
  const result = schema.safeParse(value);
  if (!result.success)
    throw new HastackError("E_TOOL_OUTPUT", `Cannot read ${what} on ${host}: unexpected rabbitmqctl output`, {
      cause: value instanceof Error ? value : result.error,
    });
  return result.data;
}

/** What is not yet as wanted for `user` on `vhost`. */
export async function amqpGaps(ctx: StepContext, user: string, vhost: string): Promise<AmqpGap[]> {
  const password = ctx.secret(secretNames(user).amqp);
  const users = parsed(
    Users,
    await rabbitmqctl(ctx, ["-q", "list_users", "--formatter", "json"], "list RabbitMQ users"),
    "RabbitMQ users",
    ctx.host.name,
  );
  if (!users.some((u) => u.user === user)) return ["user", "permissions"];
  const gaps: AmqpGap[] = [];
  // Without -q: with it, rabbitmqctl never reads stdin and waits forever (RabbitMQ 4.0.5).
  const auth = await ctx.transport.exec(["rabbitmqctl", "authenticate_user", user], {
    stdin: `${password}\n`,
    timeoutMs: 60_000,
    signal: ctx.signal,
  });
  if (auth.code !== 0) gaps.push("password");
  const perms = parsed(
    Permissions,
    await rabbitmqctl(
      ctx,
      ["-q", "list_user_permissions", user, "--formatter", "json"],
      `list the RabbitMQ permissions of ${user}`,
    ),
    `the RabbitMQ permissions of ${user}`,
    ctx.host.name,
  );
  const p = perms.find((x) => x.vhost === vhost);
  if (p?.configure !== FULL || p.write !== FULL || p.read !== FULL) gaps.push("permissions");
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
