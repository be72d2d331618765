/**
 * @module
 * The smoke's view of a site: the `openstack` client on the first controller that answers, as
 * the demo user and as admin, with the generated passwords, and the computes' transports.
 */
import { SITE_CA_PATH } from "../../services/haproxy/tls.ts";
import { KEYSTONE_DEMO_SECRET } from "../../services/keystone/openrc.ts";
import { KEYSTONE_ADMIN_SECRET } from "../../services/openstack/identity-step.ts";
import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { type Credentials, osc } from "./osc.ts";
import type { SmokeSite } from "./smoke.ts";

export interface SmokeOptions {
  image: string;
  flavor: string;
  servers: number;
  bootTimeoutMs: number;
}

export async function smokeSite(
  topology: Topology,
  secret: (name: string) => string | undefined,
  transport: (host: string) => Transport,
  /** Whether hastack deploys this service on this site (enabled and implemented). */
  deployed: (service: string) => boolean,
  opts: SmokeOptions,
): Promise<SmokeSite> {
  const enabled = topology.openstack.enabled;
  const missing = ["keystone", "glance", "placement", "nova", "neutron"].filter((s) => !enabled.includes(s));
  if (missing.length > 0)
    throw new HastackError(
      "E_SMOKE_SITE",
      `Cannot smoke-test ${topology.cluster}: ${missing.join(", ")} not enabled`,
      {
        hint: "services.openstack.enabled must list keystone, glance, placement, nova and neutron",
      },
    );
  const creds = (username: "admin" | "demo") => credentials(topology, secret, username);
  const client = await firstAnswering(topology, transport);
  const computes = new Map(topology.roles.compute.map((h) => [h, transport(h)] as const));
  const volumeNotRun = deployed("cinder")
    ? undefined
    : "Cinder is not deployed on this site (not enabled, or not implemented by hastack yet)";
  return {
    demo: osc(client, creds("demo")),
    admin: osc(client, creds("admin")),
    computes,
    volumeNotRun,
    ...opts,
  };
}

export async function firstAnswering(
  topology: Topology,
  transport: (host: string) => Transport,
): Promise<Transport> {
  const reasons: string[] = [];
  for (const host of topology.roles.controller) {
    const t = transport(host);
    const r = await t.exec(["true"], { timeoutMs: 10_000 }).catch((e: unknown) => e as Error);
    if (!(r instanceof Error) && r.code === 0) return t;
    reasons.push(`${host}: ${r instanceof Error ? r.message : `exit code ${r.code}`}`);
  }
  throw new HastackError(
    "E_SMOKE_SITE",
    `Cannot smoke-test ${topology.cluster}: no controller answers (${reasons.join("; ")})`,
  );
}

/** The openrc's credentials of the admin or the demo user, with the generated password. */
export function credentials(
  topology: Topology,
  secret: (name: string) => string | undefined,
  username: "admin" | "demo",
): Credentials {
  const authUrl = topology.endpoints.keystone?.public;
  if (!authUrl)
    throw new HastackError("E_SMOKE_SITE", `Cannot use ${topology.cluster}'s cloud: no Keystone endpoint`);
  const name = username === "admin" ? KEYSTONE_ADMIN_SECRET : KEYSTONE_DEMO_SECRET;
  const password = secret(name);
  if (password === undefined)
    throw new HastackError(
      "E_SECRET_MISSING",
      `Cannot use ${topology.cluster}'s cloud as ${username}: secret ${name} is missing`,
      {
        hint: "run `hastack secrets init` and deploy first",
      },
    );
  return {
    authUrl,
    username,
    project: username,
    password,
    region: topology.openstack.region,
    // The client runs on a controller, where deploy put the site CA beside HAProxy's certificate.
    ...(topology.tls.public !== "off" ? { caCert: SITE_CA_PATH } : {}),
  };
}
