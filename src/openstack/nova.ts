/**
 * @module
 * The part of Nova's compute API that instance HA needs: a host's nova-compute service (force
 * down, disable, enable), the servers on a host, one server, and evacuate. Every answer is read
 * through a zod schema with the field names of the Nova API reference; an answer of another
 * shape is an error, not a guess.
 */
import { z } from "zod";
import { HastackError } from "../util/errors.ts";
import type { Answer, Session } from "./client.ts";

/**
 * Every call is pinned to 2.68, the smallest version that has all we need and nothing we must
 * not have:
 * - 2.53 gave services UUID ids and `PUT /os-services/{id}` with `forced_down`/`status`;
 * - 2.14 removed `onSharedStorage` from evacuate (Nova finds out itself), 2.29 made `host`
 *   optional and added `force`, 2.68 removed `force` again: a planned target is always checked
 *   by the scheduler and claimed in Placement, never forced past them;
 * - 2.95 makes evacuate leave the server STOPPED at the destination (nova/api/openstack/compute/
 *   evacuate.py: "Starts to 2.95 any evacuated instances will be stopped at destination"):
 *   instance HA wants its VMs running again, so every version from 2.95 on is out. Below it an
 *   ACTIVE (or ERROR) server comes back ACTIVE and a stopped one stays stopped;
 * - from 2.69 on, lists may hold partial records of servers in a down cell: not at 2.68.
 * Every Nova since Stein (2019) serves 2.68, the Zed of the feasibility lab (max 2.93) and
 * 2025.1 (max 2.100) included.
 */
export const COMPUTE_API_VERSION = "2.68";

const HEADERS = {
  "openstack-api-version": `compute ${COMPUTE_API_VERSION}`,
  // The header of Nova before the generic one (2.27); every Nova still reads it.
  "x-openstack-nova-api-version": COMPUTE_API_VERSION,
};

const ServiceBody = z.object({
  id: z.string().min(1),
  binary: z.string(),
  host: z.string(),
  zone: z.string().nullish(),
  status: z.enum(["enabled", "disabled"]),
  state: z.enum(["up", "down"]),
  updated_at: z.string().nullable(),
  forced_down: z.boolean(),
  disabled_reason: z.string().nullable(),
});
export type ComputeService = z.output<typeof ServiceBody>;

const ServerBody = z
  .object({
    id: z.string().min(1),
    name: z.string(),
    status: z.string(),
    // Null when it never landed on a host, or is shelved offloaded.
    "OS-EXT-SRV-ATTR:host": z.string().nullable(),
    "OS-EXT-STS:vm_state": z.string(),
    "OS-EXT-STS:task_state": z.string().nullable(),
    fault: z.object({ message: z.string() }).optional(),
    // From 2.26; an evacuation's priority may be one (capacity.ts).
    tags: z.array(z.string()).optional(),
    // From 2.47 the flavor is embedded; its extra specs only for a role allowed to read them (admin).
    flavor: z.looseObject({ extra_specs: z.record(z.string(), z.string()).optional() }).optional(),
  })
  .transform((s) => ({
    id: s.id,
    name: s.name,
    status: s.status,
    host: s["OS-EXT-SRV-ATTR:host"],
    vmState: s["OS-EXT-STS:vm_state"],
    taskState: s["OS-EXT-STS:task_state"],
    ...(s.fault ? { fault: s.fault.message } : {}),
    tags: s.tags ?? [],
    extraSpecs: s.flavor?.extra_specs ?? {},
  }));
/** A server as instance HA reads it: Nova's vm_state and task_state rather than the status word. */
export type Server = z.output<typeof ServerBody>;

const HypervisorBody = z
  .object({
    // From 2.53 the compute node's UUID, which is also its resource provider's in Placement.
    id: z.string().min(1),
    hypervisor_hostname: z.string(),
    state: z.enum(["up", "down"]),
    status: z.enum(["enabled", "disabled"]),
    service: z.object({ host: z.string() }),
  })
  .transform((h) => ({
    id: h.id,
    hostname: h.hypervisor_hostname,
    serviceHost: h.service.host,
    state: h.state,
    status: h.status,
  }));
/** A compute node: its provider uuid, the hypervisor's hostname (Placement's name) and Nova's host. */
export type Hypervisor = z.output<typeof HypervisorBody>;
const HypervisorsPage = z.object({ hypervisors: z.array(HypervisorBody) });

const ServicesPage = z.object({ services: z.array(ServiceBody) });
const OneService = z.object({ service: ServiceBody });
const OneServer = z.object({ server: ServerBody });
const ServersPage = z.object({
  servers: z.array(ServerBody),
  servers_links: z.array(z.object({ rel: z.string(), href: z.string() })).optional(),
});

/** A call Nova refused (`status` its HTTP status) or did not answer (`status` 0). */
export class NovaError extends HastackError {
  readonly status: number;

  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super("E_OPENSTACK_API", message, options);
    this.name = "NovaError";
    this.status = status;
  }
}

export interface Nova {
  /** The nova-compute services of a host (one, unless the host was renamed and re-registered). */
  computeServices(host: string): Promise<ComputeService[]>;
  /** Sets or unsets forced_down: Nova counts a forced-down service as down at once. */
  forceDown(serviceId: string, down: boolean): Promise<ComputeService>;
  disableService(serviceId: string, reason: string): Promise<ComputeService>;
  enableService(serviceId: string): Promise<ComputeService>;
  /** Every server on a host, across all projects, page after page. */
  serversOnHost(host: string, pageSize?: number): Promise<Server[]>;
  /** One server; undefined when Nova does not know it (deleted). */
  server(id: string): Promise<Server | undefined>;
  /**
   * Every server whose name matches `pattern` (Nova's regular expression filter), across all
   * projects: one request for many servers, where `server` per server costs Nova's API (a uwsgi
   * Python process) a request each.
   */
  serversNamed(pattern: string, pageSize?: number): Promise<Server[]>;
  /** Starts an evacuation from the failed host `from`; the scheduler picks when no target is given. */
  evacuate(id: string, from: string, target?: string): Promise<void>;
  /**
   * Every compute node. Placement names a provider after the hypervisor's hostname (an FQDN on
   * most sites), while evacuate and the services speak of Nova's host (the short name): this maps one to the other.
   */
  hypervisors(): Promise<Hypervisor[]>;
}

export interface NovaOptions {
  /** Per request. @default 30000 */
  timeoutMs?: number;
  /** Pause between the tries of an idempotent request. @default 1000 */
  retryPauseMs?: number;
}

/** A Nova handle over a logged-in session (an admin one: the host filters are admin-only). */
export function novaApi(session: Pick<Session, "url" | "call">, options: NovaOptions = {}): Nova {
  const base = () => session.url("compute");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pause = options.retryPauseMs ?? 1000;

  /** One request; GET and PUT are idempotent here, so a lost answer or a 502-504 is tried again. */
  async function request(what: string, method: string, path: string, body?: unknown): Promise<Answer> {
    const tries = method === "POST" ? 1 : 3;
    for (let attempt = 1; ; attempt++) {
      let answer: Answer | undefined;
      let failure: unknown;
      try {
        answer = await session.call(method, `${base()}${path}`, body, timeoutMs, HEADERS);
      } catch (error) {
        failure = error;
      }
      const transient = answer === undefined || [502, 503, 504].includes(answer.status);
      if (transient && attempt < tries) {
        await new Promise((r) => setTimeout(r, pause));
        continue;
      }
      if (answer === undefined) {
        const words = failure instanceof Error ? failure.message : String(failure);
        throw new NovaError(`Cannot ${what}: no answer: ${words}`, 0, { cause: failure });
      }
      if (answer.status >= 400)
        throw new NovaError(
          `Cannot ${what}: HTTP ${answer.status}: ${novaMessage(answer.body)}`,
          answer.status,
        );
      return answer;
    }
  }

  async function read<S extends z.ZodType>(what: string, schema: S, path: string): Promise<z.output<S>> {
    return parse(what, schema, await request(what, "GET", path));
  }

  /** Every server matching `filter` across all projects, page after page. */
  async function listServers(
    what: string,
    filter: Record<string, string>,
    pageSize: number,
  ): Promise<Server[]> {
    const found: Server[] = [];
    let marker: string | undefined;
    // A bound on the pages: a marker that never advances must not loop forever.
    for (let page = 0; page < 10_000; page++) {
      const query = new URLSearchParams({ all_tenants: "1", ...filter, limit: String(pageSize) });
      if (marker) query.set("marker", marker);
      const { servers, servers_links } = await read(what, ServersPage, `/servers/detail?${query}`);
      found.push(...servers);
      const next = servers_links?.some((l) => l.rel === "next");
      if (!next || servers.length === 0) break;
      marker = servers.at(-1)?.id;
    }
    return found;
  }

  async function putService(what: string, id: string, body: unknown): Promise<ComputeService> {
    const answer = await request(what, "PUT", `/os-services/${encodeURIComponent(id)}`, body);
    return parse(what, OneService, answer).service;
  }

  return {
    async computeServices(host) {
      const what = `list the nova-compute services of ${host}`;
      const query = new URLSearchParams({ binary: "nova-compute", host });
      const { services } = await read(what, ServicesPage, `/os-services?${query}`);
      return services.filter((s) => s.host === host);
    },
    forceDown(id, down) {
      const what = `${down ? "force down" : "unset force_down of"} nova-compute ${id}`;
      return putService(what, id, { forced_down: down });
    },
    disableService(id, reason) {
      // Nova keeps at most 255 characters of a reason.
      const body = { status: "disabled", disabled_reason: reason.slice(0, 255) };
      return putService(`disable nova-compute ${id}`, id, body);
    },
    enableService(id) {
      return putService(`enable nova-compute ${id}`, id, { status: "enabled" });
    },
    async serversOnHost(host, pageSize = 200) {
      const found = await listServers(`list the servers on ${host}`, { host }, pageSize);
      // For a token without the admin role Nova drops the host filter silently and lists the
      // project's servers on every host: only those on this host are returned.
      return found.filter((s) => s.host === host);
    },
    serversNamed(pattern, pageSize = 200) {
      return listServers(`list the servers named ${pattern}`, { name: pattern }, pageSize);
    },
    async server(id) {
      const what = `show server ${id}`;
      try {
        return (await read(what, OneServer, `/servers/${encodeURIComponent(id)}`)).server;
      } catch (error) {
        if (error instanceof NovaError && error.status === 404) return undefined;
        throw error;
      }
    },
    async hypervisors() {
      return (await read("list the hypervisors", HypervisorsPage, "/os-hypervisors/detail")).hypervisors;
    },
    async evacuate(id, from, target) {
      const what = `evacuate server ${id} from ${from}${target ? ` to ${target}` : ""}`;
      await request(what, "POST", `/servers/${encodeURIComponent(id)}/action`, {
        evacuate: target ? { host: target } : {},
      });
    },
  };
}

function parse<S extends z.ZodType>(what: string, schema: S, answer: Answer): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw new HastackError("E_OPENSTACK_ANSWER", `Cannot ${what}: the answer is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `at ${issue.path.join(".")}` : "at the top";
  throw new HastackError(
    "E_OPENSTACK_ANSWER",
    `Cannot ${what}: Nova's answer is not what its API reference documents: ${where}: ${issue?.message}`,
  );
}

/** Nova's words from an error body (`{"conflictingRequest": {"code": 409, "message": ...}}`). */
function novaMessage(body: string): string {
  try {
    const json: unknown = JSON.parse(body);
    if (json && typeof json === "object") {
      for (const value of Object.values(json)) {
        const message = (value as { message?: unknown } | null)?.message;
        if (typeof message === "string") return message;
      }
    }
  } catch {
    // Not JSON: a proxy's or a WSGI server's page.
  }
  return body.replace(/\s+/g, " ").trim().slice(0, 200);
}
