/**
 * @module
 * hastack's RabbitMQ administrator: the user its steps and probes ask the management API as
 * (on each controller's loopback). Made by the rabbitmq service's users step with rabbitmqctl,
 * the only step that still needs the CLI for users.
 */
import type { MgmtCredentials } from "../../hostkit/rabbitmq-http.ts";
import type { Topology } from "../../topology/types.ts";
import { rabbitmqSettings } from "./settings.ts";

export const ADMIN_SECRET = "rabbitmq_admin";

export function adminCredentials(topology: Topology, secret: (name: string) => string): MgmtCredentials {
  return { user: rabbitmqSettings(topology).admin_user, password: secret(ADMIN_SECRET) };
}
