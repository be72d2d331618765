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
import type { StepContext } from "../types.ts";

/** A run's shared reads (`ctx.shared`); without them every read is asked. */
type SharedRead = StepContext["shared"];
const unshared: SharedRead = (_key, read) => read();

export interface IdentityPlan {
  /** Keystone's internal URL, where the bootstrap controller asks as admin. */
  authUrl: string;
  region: string;
  domain: "Default";
  /** "service" for the services' users. */
  project: string;
  /** The project's description when the registration creates it. */
  projectDescription?: string;
  /** The user's default project is `project` (the demo user's, for a login without one). */
  defaultProject?: boolean;
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

const Assignments = z.object({
  role_assignments: z.array(
    z.object({ role: z.object({ id: z.string() }), user: z.object({ id: z.string() }).optional() }),
  ),
});

/**
 * What every registration of a run reads alike, asked once when the checks share reads
 * (`ctx.shared`): the admin's token, then the domain, region, project, roles, catalogue and the
 * project's role assignments. Keystone hashes a password on every login (bcrypt), so nine checks
 * logging in as admin at once kept the bootstrap controller's 2 cores busy 16-20 s in session 16.
 */
interface Common {
  headers: Record<string, string>;
  domain: z.output<typeof Named>;
  regionFound: boolean;
  project?: z.output<typeof Named>;
  roles: z.output<typeof Named>[];
  services: z.output<typeof Services>["services"];
  endpoints: z.output<typeof Endpoints>["endpoints"];
  /** Role ids per user id on the project, direct assignments only (the ones registration makes). */
  assigned: Map<string, Set<string>>;
}

type Fail = (why: string) => HastackError;

async function readCommon(
  t: Transport,
  plan: IdentityPlan,
  adminPassword: string,
  shared: SharedRead,
  fail: Fail,
  signal?: AbortSignal,
): Promise<Common> {
  const base = v3(plan.authUrl);
  const said = (a?: CurlAnswer) => (!a || a.status === 0 ? "no answer" : `HTTP ${a.status}`);
  const parse = <S extends z.ZodType>(what: string, schema: S, a: CurlAnswer | undefined): z.output<S> => {
    if (a?.status !== 200) throw fail(`${what}: ${said(a)}`);
    return parseToolOutput(t, `Keystone's ${what}`, schema, parseToolJson(t, `Keystone's ${what}`, a.body));
  };
  // The token is kept in this run's memory only, under a key that names no secret.
  const token = await shared(`keystone admin token ${base} ${t.name}`, async () => {
    const [admin] = await curlBatch(
      t,
      [
        {
          method: "POST",
          url: `${base}/auth/tokens?nocatalog`,
          json: passwordAuth("admin", adminPassword, "admin", plan.domain),
          header: "x-subject-token",
        },
      ],
      { signal },
    );
    if (admin?.status !== 201 || !admin.header) throw fail(`the admin's login: ${said(admin)}`);
    return admin.header;
  });
  const headers = { "x-auth-token": token };
  const get = (path: string): CurlRequest => ({ method: "GET", url: `${base}${path}`, headers });
  const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;
  const key = `keystone reads ${base} ${t.name} ${plan.domain} ${plan.region} ${plan.project}`;
  return shared(key, async () => {
    const [domainA, regionA, projectsA, rolesA, servicesA, endpointsA] = await curlBatch(
      t,
      [
        get(`/domains${q({ name: plan.domain })}`),
        get(`/regions/${encodeURIComponent(plan.region)}`),
        get(`/projects${q({ name: plan.project })}`),
        get("/roles"),
        get("/services"),
        get(`/endpoints${q({ region_id: plan.region })}`),
      ],
      { signal },
    );
    const domain = parse("domains", Domains, domainA).domains[0];
    if (!domain) throw fail(`no domain ${plan.domain}`);
    if (regionA?.status !== 200 && regionA?.status !== 404) throw fail(`regions: ${said(regionA)}`);
    const project = parse("projects", Projects, projectsA).projects.find((p) => p.domain_id === domain.id);
    const assigned = new Map<string, Set<string>>();
    if (project) {
      const [a] = await curlBatch(t, [get(`/role_assignments${q({ "scope.project.id": project.id })}`)], {
        signal,
      });
      for (const r of parse("role assignments", Assignments, a).role_assignments) {
        if (!r.user) continue;
        const roles = assigned.get(r.user.id) ?? new Set<string>();
        roles.add(r.role.id);
        assigned.set(r.user.id, roles);
      }
    }
    return {
      headers,
      domain,
      regionFound: regionA.status === 200,
      project,
      roles: parse("roles", Roles, rolesA).roles,
      services: parse("services", Services, servicesA).services,
      endpoints: parse("endpoints", Endpoints, endpointsA).endpoints,
      assigned,
    };
  });
}

/** A failed Keystone read on `t`, as "Cannot <doing> on <host>: <why>", with the one hint. */
function identityFail(t: Transport, plan: IdentityPlan, doing: string): Fail {
  return (why) =>
    new HastackError("E_OPENSTACK_IDENTITY", `Cannot ${doing} on ${t.name}: ${why}`, {
      hint: `Keystone must answer at ${plan.authUrl} with the admin password in secret keystone_admin`,
    });
}

/**
 * The facts of `plan` Keystone lacks, as the registration program names them. With a run's
 * `shared` reads, the checks of several registrations log in as admin and read the catalogue once.
 */
export async function missingInKeystone(
  t: Transport,
  plan: IdentityPlan,
  passwords: { admin: string; user: string },
  opts: { signal?: AbortSignal; shared?: SharedRead } = {},
): Promise<string[]> {
  const { signal, shared = unshared } = opts;
  const base = v3(plan.authUrl);
  const doing = `check the ${plan.user} ${plan.service ? "service" : "user"} in Keystone`;
  const fail = identityFail(t, plan, doing);
  // The shared reads may be reported to every registration's check: their wording names none.
  const commonFail = identityFail(t, plan, "read Keystone's catalogue and roles");
  const common = await readCommon(t, plan, passwords.admin, shared, commonFail, signal);
  const [own, usersA] = await curlBatch(
    t,
    [
      {
        method: "POST",
        url: `${base}/auth/tokens?nocatalog`,
        json: passwordAuth(plan.user, passwords.user, plan.project, plan.domain),
      },
      {
        method: "GET",
        url: `${base}/users?${new URLSearchParams({ name: plan.user })}`,
        headers: common.headers,
      },
    ],
    { signal },
  );
  if (own?.status === 0) throw fail(`${plan.user}'s login: no answer`);
  if (usersA?.status !== 200)
    throw fail(`users: ${!usersA || usersA.status === 0 ? "no answer" : `HTTP ${usersA.status}`}`);
  const users = parseToolOutput(
    t,
    "Keystone's users",
    Users,
    parseToolJson(t, "Keystone's users", usersA.body),
  );
  const user = users.users.find((u) => u.domain_id === common.domain.id);
  const { project, roles, endpoints } = common;
  const assigned = (user && common.assigned.get(user.id)) || new Set<string>();
  const service = plan.service ? common.services.find((s) => s.name === plan.service?.name) : undefined;

  const missing: string[] = [];
  if (!common.regionFound) missing.push(`region ${plan.region}`);
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
