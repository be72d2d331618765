/**
 * @module
 * The RabbitMQ listings every user check asks the bootstrap controller, shared by the checks of a
 * run (`ctx.shared`): the rabbitmq step's and each OpenStack service's amqp-user step then start
 * one Erlang VM for them together, not one each. Passwords are still checked per user.
 */
import { listPermissions, listUsers } from "../../hostkit/rabbitmq.ts";
import type { StepContext } from "../types.ts";

/** The user names. Not tied to the asking step's signal: another step may be waiting for the answer. */
export function rabbitUsers(ctx: StepContext): Promise<string[]> {
  return ctx.shared(`rabbitmq users@${ctx.host.name}`, async () =>
    (await listUsers(ctx.transport)).map((u) => u.user),
  );
}

export interface Rights {
  configure: string;
  write: string;
  read: string;
}

/** Each user's rights on `vhost`, by user name. */
export function vhostRights(ctx: StepContext, vhost: string): Promise<Map<string, Rights>> {
  return ctx.shared(`rabbitmq permissions ${vhost}@${ctx.host.name}`, async () => {
    const rows = await listPermissions(ctx.transport, vhost);
    return new Map(rows.map((r) => [r.user, { configure: r.configure, write: r.write, read: r.read }]));
  });
}

/** Full rights (".*" for all three), as oslo.messaging and the openstack user need them. */
export function hasFullRights(rights: Rights | undefined): boolean {
  return rights?.configure === ".*" && rights.write === ".*" && rights.read === ".*";
}
