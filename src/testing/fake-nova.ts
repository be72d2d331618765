/**
 * @module
 * A small real HTTP server (node:http) that speaks the subset of Keystone v3 and Nova's compute
 * API that instance HA uses, for unit tests: a real Nova needs the lab. Its bodies carry the
 * field names of the Nova API reference, it refuses a request without a token or outside the
 * microversions instance HA may use (2.53 to 2.94), and it behaves as Nova does where it matters:
 * evacuate is refused (400) while the source service is not down and (409) unless the server is
 * active, stopped or error with no task; the state is saved before the host moves (lab note 6.6);
 * force-up is refused (400) while evacuations are not cleaned up (6.5). It counts evacuations in
 * flight on its side, so a test can check the client's parallelism where it shows.
 */

import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { login } from "../openstack/client.ts";
import { type Nova, novaApi } from "../openstack/nova.ts";

export interface FakeService {
  id: string;
  host: string;
  status: "enabled" | "disabled";
  disabled_reason: string | null;
  forced_down: boolean;
  /** Whether its nova-compute heartbeats (state up unless forced down). */
  alive: boolean;
  /** force-up (forced_down false) answers 400 this many more times. */
  forceUpRefusals?: number;
}

/** What one evacuate request of a server does: finish on a host, go to ERROR, or never finish. */
export type EvacuationScript = "ok" | "error" | "hang";

export interface FakeServer {
  id: string;
  name: string;
  host: string | null;
  vm_state: string;
  task_state: string | null;
  fault?: { code: number; message: string; created: string };
  tags?: string[];
  /** The embedded flavor's extra specs. */
  extra_specs?: Record<string, string>;
  /** One entry per evacuate request, in order; "ok" when none is left. */
  script?: EvacuationScript[];
}

export interface Logged {
  method: string;
  path: string;
  body?: unknown;
  version?: string;
}

export interface FakeNova {
  url: string;
  services: FakeService[];
  servers: FakeServer[];
  log: Logged[];
  /** The most evacuations Nova had under way at once. */
  maxInFlight: number;
  /** How long an evacuation takes in Nova. */
  evacuateMs: number;
  close(): Promise<void>;
}

const MIN = 53;
const MAX = 94;

export async function startFakeNova(init: {
  services: FakeService[];
  servers: FakeServer[];
}): Promise<FakeNova> {
  let inFlight = 0;
  const fake: FakeNova = {
    url: "",
    services: init.services,
    servers: init.servers,
    log: [],
    maxInFlight: 0,
    evacuateMs: 60,
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: HttpServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString();
      handle(req, res, text ? JSON.parse(text) : undefined);
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: unknown) {
    const url = new URL(req.url ?? "/", fake.url);
    const reply = (status: number, json?: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(json === undefined ? "" : JSON.stringify(json));
    };
    const error = (status: number, kind: string, message: string) =>
      reply(status, { [kind]: { code: status, message } });
    if (url.pathname === "/v3/auth/tokens" && req.method === "POST") {
      res.writeHead(201, { "x-subject-token": "tok-admin", "content-type": "application/json" });
      const compute = { type: "compute", endpoints: [{ interface: "public", url: `${fake.url}/v2.1` }] };
      res.end(JSON.stringify({ token: { project: { id: "admin-project" }, catalog: [compute] } }));
      return;
    }
    const version = req.headers["openstack-api-version"];
    fake.log.push({
      method: req.method ?? "",
      path: `${url.pathname}${url.search}`,
      body,
      version: String(version),
    });
    if (req.headers["x-auth-token"] !== "tok-admin")
      return error(401, "error", "The request you have made requires authentication.");
    const minor = /^compute 2\.(\d+)$/.exec(String(version))?.[1];
    if (
      !minor ||
      Number(minor) < MIN ||
      Number(minor) > MAX ||
      req.headers["x-openstack-nova-api-version"] !== `2.${minor}`
    )
      return error(
        406,
        "computeFault",
        `Version ${String(version)} is not what instance HA may use (2.${MIN} to 2.${MAX}).`,
      );
    const path = url.pathname.replace(/^\/v2\.1/, "");

    if (req.method === "GET" && path === "/os-services") {
      const host = url.searchParams.get("host");
      const list = fake.services.filter((s) => !host || s.host === host);
      return reply(200, { services: list.map(serviceBody) });
    }
    if (req.method === "GET" && path === "/os-hypervisors/detail") {
      // One compute node per nova-compute service; its id (the provider uuid) is "rp-<host>" and
      // its hypervisor hostname an FQDN, as on most sites: Placement's names are not Nova's hosts.
      const hypervisors = fake.services.map((s) => ({
        id: `rp-${s.host}`,
        hypervisor_hostname: `${s.host}.example.org`,
        state: s.alive && !s.forced_down ? "up" : "down",
        status: s.status,
        service: { host: s.host, id: s.id, disabled_reason: s.disabled_reason },
      }));
      return reply(200, { hypervisors });
    }
    const svc = /^\/os-services\/([^/]+)$/.exec(path);
    if (req.method === "PUT" && svc) {
      const found = fake.services.find((s) => s.id === svc[1]);
      if (!found) return error(404, "itemNotFound", `Service ${svc[1]} not found.`);
      const change = body as Partial<FakeService>;
      if (change.forced_down === false && (found.forceUpRefusals ?? 0) > 0) {
        found.forceUpRefusals = (found.forceUpRefusals ?? 0) - 1;
        return error(
          400,
          "badRequest",
          `Unable to force up host ${found.host} as 'done' evacuation migration records remain associated with the host.`,
        );
      }
      if (change.disabled_reason !== undefined && change.status !== "disabled")
        return error(400, "badRequest", "Specifying 'disabled_reason' with status 'enabled' is invalid.");
      if (change.forced_down !== undefined) found.forced_down = change.forced_down;
      if (change.status) found.status = change.status;
      if (change.status === "enabled") found.disabled_reason = null;
      if (change.disabled_reason !== undefined) found.disabled_reason = change.disabled_reason;
      return reply(200, { service: serviceBody(found) });
    }
    if (req.method === "GET" && path === "/servers/detail") {
      if (url.searchParams.get("all_tenants") !== "1") return reply(200, { servers: [] });
      const host = url.searchParams.get("host");
      // Nova's name filter is a regular expression (matched in the database, as Python's re.search).
      const name = url.searchParams.get("name");
      const named = name === null ? undefined : new RegExp(name);
      let list = fake.servers.filter((s) => (!host || s.host === host) && (!named || named.test(s.name)));
      const marker = url.searchParams.get("marker");
      if (marker) list = list.slice(list.findIndex((s) => s.id === marker) + 1);
      const limit = Number(url.searchParams.get("limit") ?? 1000);
      const page = list.slice(0, limit);
      const next = new URL(url);
      next.searchParams.set("marker", page.at(-1)?.id ?? "");
      const links = page.length === limit ? [{ rel: "next", href: next.href }] : undefined;
      return reply(200, { servers: page.map(serverBody), ...(links ? { servers_links: links } : {}) });
    }
    const one = /^\/servers\/([^/]+)(\/action)?$/.exec(path);
    const target = fake.servers.find((s) => s.id === one?.[1]);
    if (one && !target) return error(404, "itemNotFound", `Instance ${one[1]} could not be found.`);
    if (one && target && req.method === "GET" && !one[2]) return reply(200, { server: serverBody(target) });
    if (one && target && req.method === "POST" && one[2]) return evacuate(target, body, reply, error);
    return error(404, "itemNotFound", "The resource could not be found.");
  }

  function evacuate(
    s: FakeServer,
    body: unknown,
    reply: (status: number, json?: unknown) => void,
    error: (status: number, kind: string, message: string) => void,
  ) {
    const ask = (body as { evacuate?: { host?: string; force?: unknown; onSharedStorage?: unknown } })
      .evacuate;
    if (!ask) return error(400, "badRequest", "Invalid input for action.");
    if ("force" in ask || "onSharedStorage" in ask)
      return error(400, "badRequest", "Additional properties are not allowed.");
    if (ask.host === s.host) return error(400, "badRequest", "The target host can't be the same one.");
    const source = fake.services.find((x) => x.host === s.host);
    if (source && !source.forced_down && source.alive)
      return error(400, "badRequest", `Compute service of ${s.host} is still in use.`);
    if (!["active", "stopped", "error"].includes(s.vm_state) || s.task_state !== null)
      return error(
        409,
        "conflictingRequest",
        `Cannot 'evacuate' instance ${s.id} while it is in vm_state ${s.vm_state}, task_state ${s.task_state}`,
      );
    const script = s.script?.shift() ?? "ok";
    const wasStopped = s.vm_state === "stopped";
    s.task_state = "rebuilding";
    inFlight++;
    fake.maxInFlight = Math.max(fake.maxInFlight, inFlight);
    reply(200);
    if (script === "hang") return;
    setTimeout(() => {
      inFlight--;
      s.task_state = null;
      if (script === "error") {
        s.vm_state = "error";
        s.fault = { code: 500, message: "No valid host was found. ", created: new Date().toISOString() };
        return;
      }
      // The state first, the host a moment later, as nova-compute saves them (lab note 6.6).
      s.vm_state = wasStopped ? "stopped" : "active";
      delete s.fault;
      const to =
        ask.host ?? fake.services.find((x) => x.host !== s.host && x.alive && x.status === "enabled")?.host;
      setTimeout(() => {
        s.host = to ?? null;
      }, 15);
    }, fake.evacuateMs);
  }

  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

function serviceBody(s: FakeService) {
  return {
    id: s.id,
    binary: "nova-compute",
    host: s.host,
    zone: "nova",
    status: s.status,
    state: s.forced_down || !s.alive ? "down" : "up",
    updated_at: "2026-12-03T15:50:19.000000",
    disabled_reason: s.disabled_reason,
    forced_down: s.forced_down,
  };
}

const STATUS: Record<string, string> = {
  active: "ACTIVE",
  stopped: "SHUTOFF",
  error: "ERROR",
  shelved_offloaded: "SHELVED_OFFLOADED",
};

function serverBody(s: FakeServer) {
  const rebuilding = s.task_state?.startsWith("rebuild") && s.vm_state !== "shelved_offloaded";
  return {
    id: s.id,
    name: s.name,
    status: rebuilding ? "REBUILD" : (STATUS[s.vm_state] ?? s.vm_state.toUpperCase()),
    tenant_id: "6f70656e737461636b20342065766572",
    user_id: "fake",
    created: "2026-12-03T15:00:00Z",
    updated: "2026-12-03T15:50:19Z",
    addresses: {},
    metadata: {},
    flavor: {
      original_name: "m1.tiny",
      ...{ vcpus: 1, ram: 64, disk: 1, ephemeral: 0, swap: 0, extra_specs: s.extra_specs ?? {} },
    },
    tags: s.tags ?? [],
    image: { id: "70a599e0-31e7-49b7-b260-868f441e862b" },
    "OS-EXT-SRV-ATTR:host": s.host,
    "OS-EXT-SRV-ATTR:hypervisor_hostname": s.host,
    "OS-EXT-SRV-ATTR:instance_name": `instance-${s.id.slice(0, 8)}`,
    "OS-EXT-STS:vm_state": s.vm_state,
    "OS-EXT-STS:task_state": s.task_state,
    "OS-EXT-STS:power_state": s.vm_state === "active" ? 1 : 4,
    "OS-EXT-AZ:availability_zone": "nova",
    ...(s.fault ? { fault: s.fault } : {}),
    links: [{ rel: "self", href: `http://nova/v2.1/servers/${s.id}` }],
  };
}

/** The real client logged in to the fake, and the real Nova API over it (fast retries). */
export async function novaOf(fake: Pick<FakeNova, "url">): Promise<Nova> {
  const session = await login({
    authUrl: `${fake.url}/v3`,
    username: "admin",
    project: "admin",
    password: "pw",
  });
  return novaApi(session, { retryPauseMs: 10 });
}
