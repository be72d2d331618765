/**
 * @module
 * A Keystone session as the cloud's admin, from this machine, through the public endpoint (the
 * site's CA when TLS is on): what `ha evacuate`, `ha enable` and the drills call Nova and Placement with.
 */
import type { SecretValues } from "../inventory/secrets-file.ts";
import { TLS_SECRETS } from "../inventory/site-tls.ts";
import { login, type Session } from "../openstack/client.ts";
import { KEYSTONE_ADMIN_SECRET } from "../services/openstack/identity-step.ts";
import type { Topology } from "../topology/types.ts";
import type { ErrorCode } from "../util/error-codes.ts";
import { HastackError } from "../util/errors.ts";

export async function adminSession(
  topology: Topology,
  secrets: SecretValues,
  code: ErrorCode,
): Promise<Session> {
  const authUrl = topology.endpoints.keystone?.public;
  const password = secrets[KEYSTONE_ADMIN_SECRET];
  if (!authUrl || !password)
    throw new HastackError(code, "Cannot reach the cloud's APIs: no Keystone endpoint or no admin password", {
      hint: "deploy Keystone first (hastack secrets init, hastack deploy)",
    });
  const ca = topology.tls.public !== "off" ? secrets[TLS_SECRETS.caCert] : undefined;
  return login({ authUrl, username: "admin", project: "admin", password, ...(ca ? { ca } : {}) });
}
