/**
 * @module
 * What a service's Keystone registration lacks, asked over Keystone's REST API with curl on the
 * bootstrap controller: three curl runs, no Python. The registration itself stays the openstacksdk
 * program (identity-script.ts); its check was that program too, an interpreter importing
 * openstacksdk per service, 40-47 s each on the lab's busy ctl1 in a no-op deploy (the checks of
 * eight services at once). The facts and their wording are the program's, so either can say
 * what is missing.
 */
import { z } from "zod";
import { parseToolJson, parseToolOutput } from "../../hostkit/command.ts";
import { type CurlAnswer, type CurlRequest, curlBatch } from "../../hostkit/curl-batch.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";

export interface IdentityPlan {
  /** Keystone's internal URL, where the bootstrap controller asks as admin. */
  authUrl: string;
  region: string;
  domain: "Default";
  /** "service" for the services' users. */
  project: string;
  user: string;
  roles: string[];
  /** The catalogue entry; none for a user of hastack's own (the instance-HA engine). */
  service?: { name: string; type: string; description: string };
  endpoints: { interface: "public" | "internal" | "admin"; url: string }[];
}

const Named = z.object({ id: z.string(), name: z.string() });
const Domains = z.object({ domains: z.array(Named) });
const Projects = z.object({ projects: z.array(Named.extend({ domain_id: z.string() })) });
const Users = z.object({ users: z.array(Named.extend({ domain_id: z.string() })) });
const Roles = z.object({ roles: z.array(Named) });
const Services = z.object({ services: z.array(Named.extend({ type: z.string() })) });
const Endpoints = z.object({
  endpoints: z.array(
    z.object({
      service_id: z.string(),
      interface: z.string(),
      region_id: z.string().nullable(),
      url: z.string(),
    }),
  ),
});

function v3(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, "");
  return base.endsWith("/v3") ? base : `${base}/v3`;
}

function passwordAuth(user: string, password: string, project: string, domain: string) {
  return {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: user, domain: { name: domain }, password } },
      },
      scope: { project: { name: project, domain: { name: domain } } },
    },
  };
}

/** The facts of `plan` Keystone lacks, as the registration program names them. */
export async function missingInKeystone(
  t: Transport,
  plan: IdentityPlan,
  passwords: { admin: string; user: string },
  signal?: AbortSignal,
): Promise<string[]> {
  const base = v3(plan.authUrl);
  const doing = `check the ${plan.user} ${plan.service ? "service" : "user"} in Keystone`;
  const fail = (why: string) =>
    new HastackError("E_OPENSTACK_IDENTITY", `Cannot ${doing} on ${t.name}: ${why}`, {
      hint: `Keystone must answer at ${plan.authUrl} with the admin password in secret keystone_admin`,
    });
  const said = (a?: CurlAnswer) => (!a || a.status === 0 ? "no answer" : `HTTP ${a.status}`);
  const parse = <S extends z.ZodType>(what: string, schema: S, a: CurlAnswer | undefined): z.output<S> => {
    if (a?.status !== 200) throw fail(`${what}: ${said(a)}`);
    return parseToolOutput(t, `Keystone's ${what}`, schema, parseToolJson(t, `Keystone's ${what}`, a.body));
  };

  const [admin, own] = await curlBatch(
    t,
    [
      {
        method: "POST",
        url: `${base}/auth/tokens?nocatalog`,
        json: passwordAuth("admin", passwords.admin, "admin", plan.domain),
        header: "x-subject-token",
      },
      {
        method: "POST",
        url: `${base}/auth/tokens?nocatalog`,
        json: passwordAuth(plan.user, passwords.user, plan.project, plan.domain),
      },
    ],
    { signal },
  );
  if (admin?.status !== 201 || !admin.header) throw fail(`the admin's login: ${said(admin)}`);
  if (own?.status === 0) throw fail(`${plan.user}'s login: no answer`);
  const headers = { "x-auth-token": admin.header };
  const get = (path: string): CurlRequest => ({ method: "GET", url: `${base}${path}`, headers });
  const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;
  const answers = await curlBatch(
    t,
    [
      get(`/domains${q({ name: plan.domain })}`),
      get(`/regions/${encodeURIComponent(plan.region)}`),
      get(`/projects${q({ name: plan.project })}`),
      get(`/users${q({ name: plan.user })}`),
      get("/roles"),
      get("/services"),
      get(`/endpoints${q({ region_id: plan.region })}`),
    ],
    { signal },
  );
  const [domainA, regionA, projectsA, usersA, rolesA, servicesA, endpointsA] = answers;
  const domain = parse("domains", Domains, domainA).domains[0];
  if (!domain) throw fail(`no domain ${plan.domain}`);
  if (regionA?.status !== 200 && regionA?.status !== 404) throw fail(`regions: ${said(regionA)}`);
  const project = parse("projects", Projects, projectsA).projects.find((p) => p.domain_id === domain.id);
  const user = parse("users", Users, usersA).users.find((u) => u.domain_id === domain.id);
  const roles = parse("roles", Roles, rolesA).roles;
  const service = plan.service
    ? parse("services", Services, servicesA).services.find((s) => s.name === plan.service?.name)
    : undefined;
  const endpoints = parse("endpoints", Endpoints, endpointsA).endpoints;

  let assigned = new Set<string>();
  if (user && project) {
    const [a] = await curlBatch(t, [get(`/projects/${project.id}/users/${user.id}/roles`)], { signal });
    assigned = new Set(parse("role assignments", Roles, a).roles.map((r) => r.id));
  }

  const missing: string[] = [];
  if (regionA.status === 404) missing.push(`region ${plan.region}`);
  if (!project) missing.push(`project ${plan.project}`);
  if (!user) missing.push(`user ${plan.user}`);
  else if (own?.status !== 201) missing.push(`password of ${plan.user}`);
  for (const name of plan.roles) {
    const role = roles.find((r) => r.name === name);
    if (!role) missing.push(`role ${name}`);
    if (!role || !assigned.has(role.id)) missing.push(`role ${name} of ${plan.user} on ${plan.project}`);
  }
  if (plan.service && service && service.type !== plan.service.type)
    throw fail(`service ${service.name} exists with type ${service.type}, not ${plan.service.type}`);
  if (plan.service && !service) missing.push(`service ${plan.service.name}`);
  for (const want of plan.endpoints) {
    const found = service
      ? endpoints.find((e) => e.service_id === service.id && e.interface === want.interface)
      : undefined;
    if (!found || found.url !== want.url) missing.push(`${want.interface} endpoint ${want.url}`);
  }
  return missing;
}
