/**
 * @module
 * The real `openstack` client (python3-openstackclient of the lab image, OpenStack 2025.1), run on
 * a controller over the Transport, as an operator with an openrc would. The password goes to the
 * client through stdin, never through argv or the SSH command line (both visible in `ps`).
 */
import type { z } from "zod";
import { parseToolJson, parseToolOutput } from "../../hostkit/command.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLines } from "../../util/text.ts";

export interface Credentials {
  authUrl: string;
  username: string;
  project: string;
  password: string;
  region: string;
  /** OS_CACERT: the CA file on the client's host that the public endpoints' certificate is checked against. */
  caCert?: string;
}

export interface Osc {
  /** `openstack ARGS`; throws E_SMOKE_STEP naming the command and the client's last words. */
  run(args: string[], timeoutMs?: number): Promise<string>;
  /** `openstack ARGS -f json`, parsed through `schema`. */
  json<S extends z.ZodType>(args: string[], schema: S, timeoutMs?: number): Promise<z.output<S>>;
  /** Like run, but a non-zero exit is returned, not thrown (deletes of what may be gone). */
  attempt(args: string[], timeoutMs?: number): Promise<{ code: number; stderr: string }>;
  readonly transport: Transport;
}

// `read` takes the password from stdin; the rest of the openrc is not secret.
const WITH_PASSWORD = 'IFS= read -r OS_PASSWORD; export OS_PASSWORD; exec "$@"';

export function osc(transport: Transport, creds: Credentials): Osc {
  const env = {
    OS_AUTH_URL: creds.authUrl,
    OS_IDENTITY_API_VERSION: "3",
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_USERNAME: creds.username,
    OS_PROJECT_NAME: creds.project,
    OS_REGION_NAME: creds.region,
    OS_INTERFACE: "public",
    ...(creds.caCert ? { OS_CACERT: creds.caCert } : {}),
  };
  async function exec(args: string[], timeoutMs: number) {
    return transport.exec(["sh", "-c", WITH_PASSWORD, "sh", "openstack", ...args], {
      env,
      stdin: `${creds.password}\n`,
      timeoutMs,
    });
  }
  async function run(args: string[], timeoutMs = 120_000): Promise<string> {
    const r = await exec(args, timeoutMs);
    if (r.code !== 0) {
      const said = lastLines(r.stderr || r.stdout, 2).replaceAll(creds.password, "***");
      throw new HastackError(
        "E_SMOKE_STEP",
        `Cannot run openstack ${args.slice(0, 3).join(" ")} as ${creds.username} on ${transport.name}: exit code ${r.code}${said ? `: ${said}` : ""}`,
      );
    }
    return r.stdout;
  }
  return {
    transport,
    run,
    async json(args, schema, timeoutMs) {
      const tool = `openstack ${args.slice(0, 2).join(" ")}`;
      const out = await run([...args, "-f", "json"], timeoutMs);
      return parseToolOutput(transport, tool, schema, parseToolJson(transport, tool, out));
    },
    async attempt(args, timeoutMs = 120_000) {
      const r = await exec(args, timeoutMs);
      return { code: r.code, stderr: r.stderr.replaceAll(creds.password, "***") };
    },
  };
}
