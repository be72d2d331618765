/**
 * @module
 * A bounded API load for drills, as tenants make it: a token, then a list from each API every
 * half second (one loop per API, so each API's downtime is its own), and servers created and
 * deleted one after another. It runs in this process against the public VIP, so it outlives any
 * controller. Every request and every server's end state is kept for the report.
 */
import { z } from "zod";
import type { Answer, Session } from "../../openstack/client.ts";
import { type Credentials, login } from "../../openstack/client.ts";
import { HastackError } from "../../util/errors.ts";
import { type Attempt, measureDowntime, type ProbeLoop, startProbeLoop } from "./probe-loop.ts";

/** A request each API answers for any tenant, relative to its catalogue URL. */
const READS: { api: string; type: string; path: (s: Session) => string }[] = [
  { api: "nova", type: "compute", path: () => "/servers" },
  { api: "neutron", type: "network", path: () => "/v2.0/networks" },
  { api: "glance", type: "image", path: () => "/v2/images" },
  { api: "cinder", type: "volumev3", path: () => "/volumes" },
  { api: "placement", type: "placement", path: () => "/" },
];

const SETUP_MS = 60_000;
const CREATE_MS = 60_000;

export interface ServerCycle {
  name: string;
  /** The state it ended in: ACTIVE then deleted, ERROR, or what it was stuck in. */
  outcome: "deleted" | "error" | "stuck" | "create-failed" | "orphan";
  detail: string;
}

export interface ApiResult {
  api: string;
  requests: number;
  errors: number;
  downtimeMs: number;
  firstErrors: string[];
}

export interface ApiLoadResult {
  apis: ApiResult[];
  cycles: ServerCycle[];
}

export interface ApiLoad {
  /** Marks the fault's start: downtimes are measured from here. */
  markFault(): void;
  /** Resolves when every API answered 5 times in a row since the fault, or after `timeoutMs`. */
  waitRecovered(timeoutMs: number): Promise<void>;
  stop(): Promise<ApiLoadResult>;
}

export interface ServerSpec {
  image: string;
  flavor: string;
}

/** Logs in, makes the drill's own network, and starts the loops. */
export async function startApiLoad(
  creds: Credentials,
  server: ServerSpec,
  intervalMs = 500,
): Promise<ApiLoad> {
  const session = await login(creds);
  const ok = (what: string, a: { status: number; body: string }) => {
    if (a.status >= 400) throw new Error(`${what}: HTTP ${a.status}`);
    return a.body;
  };
  const loops = new Map<string, ProbeLoop>();
  loops.set(
    "keystone",
    startProbeLoop(async () => void (await login(creds, 10_000)), intervalMs * 2),
  );
  for (const r of READS) {
    const url = `${session.url(r.type)}${r.path(session)}`;
    loops.set(
      r.api,
      startProbeLoop(async () => void ok(r.api, await session.call("GET", url)), intervalMs),
    );
  }
  const tag = `drill-${Date.now().toString(36)}`;
  let network: string;
  let refs: { image: string; flavor: string };
  try {
    network = await makeNetwork(session, tag);
    refs = await serverRefs(session, server);
  } catch (error) {
    // Nothing to measure without them: the loops must not outlive the refusal.
    await Promise.all([...loops.values()].map((l) => l.stop()));
    if (error instanceof HastackError) throw error;
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot set up the API load: ${(error as Error).message}`,
      {
        cause: error,
        hint: "run `hastack status`: every API must answer before the drill",
      },
    );
  }
  const cycles: ServerCycle[] = [];
  let stopping = false;
  // Two lanes, the second 20 s behind: a server stuck in BUILD (its request lost with the
  // controller, run 5) holds up its lane for 240 s, and the other goes on showing whether
  // servers can be created after the failover.
  let next = 1;
  const lane = async (delayMs: number) => {
    await new Promise((r) => setTimeout(r, delayMs));
    while (!stopping) {
      const name = `${tag}-${next++}`;
      cycles.push(await cycle(session, name, refs, network));
    }
  };
  const cycler = Promise.all([lane(0), lane(20_000)]);
  const faultAt = new Map<string, number>();
  return {
    markFault() {
      for (const [api, loop] of loops) faultAt.set(api, loop.now());
    },
    async waitRecovered(timeoutMs) {
      await Promise.all(
        [...loops].map(([api, loop]) => loop.waitForRecovery(faultAt.get(api) ?? 0, 5, timeoutMs, false)),
      );
    },
    async stop() {
      stopping = true;
      await cycler;
      const apis: ApiResult[] = [];
      for (const [api, loop] of loops) {
        const attempts: Attempt[] = await loop.stop();
        const d = measureDowntime(attempts, faultAt.get(api) ?? 0);
        apis.push({
          api,
          requests: d.total,
          errors: d.failed,
          downtimeMs: d.downtimeMs,
          firstErrors: d.errors.slice(0, 2),
        });
      }
      // A create whose answer was lost (a timeout, a 500) may still have made a server: find
      // every one of this run's, report those in ERROR, delete them all.
      cycles.push(...(await sweep(session, tag)));
      await session
        .call("DELETE", `${session.url("network")}/v2.0/networks/${network}`)
        .catch(() => undefined);
      return { apis, cycles };
    },
  };
}

// The answers the load reads, checked: an API's answer is a boundary like any tool's output.
const ServerList = z.object({
  servers: z.array(z.object({ id: z.string(), name: z.string(), status: z.string() })),
});
const CreatedNetwork = z.object({ network: z.object({ id: z.string() }) });
const ImageList = z.object({ images: z.array(z.object({ id: z.string() })) });
const FlavorList = z.object({ flavors: z.array(z.object({ id: z.string(), name: z.string() })) });
const CreatedServer = z.object({ server: z.object({ id: z.string() }) });
const ServerStatus = z.object({ server: z.object({ status: z.string() }) });

function read<S extends z.ZodType>(answer: Answer, schema: S, what: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new HastackError(
      "E_OPENSTACK_ANSWER",
      `Cannot ${what}: the answer (HTTP ${answer.status}) is not what the API reference documents: ${parsed.error.issues[0]?.message}`,
    );
  return parsed.data;
}

async function sweep(session: Session, tag: string): Promise<ServerCycle[]> {
  const base = `${session.url("compute")}/servers`;
  const list = await session
    .call("GET", `${base}/detail?name=^${tag}-`, undefined, SETUP_MS)
    .catch(() => undefined);
  if (list?.status !== 200)
    return [
      { name: tag, outcome: "stuck", detail: `cannot list this run's servers: HTTP ${list?.status ?? 0}` },
    ];
  const left = read(list, ServerList, "list this run's servers").servers;
  const out: ServerCycle[] = [];
  for (const server of left) {
    await deleteServer(session, `${base}/${server.id}`);
    out.push({
      name: server.name,
      outcome: server.status === "ERROR" ? "error" : "orphan",
      detail: `${server.id} left ${server.status} by a create whose answer was lost; deleted`,
    });
  }
  return out;
}

async function makeNetwork(session: Session, tag: string): Promise<string> {
  const base = `${session.url("network")}/v2.0`;
  // Setup waits longer than the load's requests: a just-restarted API worker loads on its first call.
  const net = await session.call("POST", `${base}/networks`, { network: { name: tag } }, SETUP_MS);
  if (net.status !== 201) throw drillError(`create network ${tag}`, net);
  const id = read(net, CreatedNetwork, `create network ${tag}`).network.id;
  const subnet = await session.call(
    "POST",
    `${base}/subnets`,
    { subnet: { name: tag, network_id: id, ip_version: 4, cidr: "192.168.233.0/24" } },
    SETUP_MS,
  );
  if (subnet.status !== 201) throw drillError(`create subnet ${tag}`, subnet);
  return id;
}

async function serverRefs(session: Session, spec: ServerSpec): Promise<{ image: string; flavor: string }> {
  const images = await session.call(
    "GET",
    `${session.url("image")}/v2/images?name=${spec.image}`,
    undefined,
    SETUP_MS,
  );
  const image = read(images, ImageList, `find image ${spec.image}`).images[0]?.id;
  const flavors = await session.call("GET", `${session.url("compute")}/flavors`, undefined, SETUP_MS);
  const flavor = read(flavors, FlavorList, "list the flavors").flavors.find(
    (f) => f.name === spec.flavor,
  )?.id;
  if (!image || !flavor)
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot start the API load: no ${image ? "" : `image ${spec.image} `}${flavor ? "" : `flavor ${spec.flavor}`}in the cloud`,
      { hint: "upload them first: hastack lab guest-image -i FILE" },
    );
  return { image, flavor };
}

/** Create, wait for ACTIVE (or ERROR), delete, wait until gone: one server's whole life. */
async function cycle(
  session: Session,
  name: string,
  refs: { image: string; flavor: string },
  network: string,
): Promise<ServerCycle> {
  const base = `${session.url("compute")}/servers`;
  // A create checks quotas, the image, the flavor and the network with other APIs: on a loaded
  // site it takes longer than a list, and a client waits for it (60 s, not the lists' 10 s).
  const body = {
    server: { name, imageRef: refs.image, flavorRef: refs.flavor, networks: [{ uuid: network }] },
  };
  const created = await session
    .call("POST", base, body, CREATE_MS)
    .catch((e: Error): Answer => ({ status: 0, body: e.message, headers: {} }));
  if (created.status !== 202) {
    await new Promise((r) => setTimeout(r, 2000));
    return {
      name,
      outcome: "create-failed",
      detail: `HTTP ${created.status}: ${created.body.slice(0, 120)}`,
    };
  }
  const id = read(created, CreatedServer, `create server ${name}`).server.id;
  const state = await waitFor(session, `${base}/${id}`, (s) => s === "ACTIVE" || s === "ERROR", 240_000);
  // Delete whatever it became: an ERROR server is reported, not left behind.
  await deleteServer(session, `${base}/${id}`);
  if (state === "ERROR") return { name, outcome: "error", detail: `${id} went to ERROR` };
  if (state !== "ACTIVE") return { name, outcome: "stuck", detail: `${id} still ${state} after 240 s` };
  return { name, outcome: "deleted", detail: id };
}

async function deleteServer(session: Session, url: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const r = await session.call("DELETE", url).catch(() => undefined);
    if (r && (r.status === 204 || r.status === 404)) break;
    await new Promise((res) => setTimeout(res, 3000));
  }
  await waitFor(session, url, (s) => s === "GONE", 120_000);
}

/** Polls a server's status every second until `done` says so; "GONE" once it answers 404. */
async function waitFor(
  session: Session,
  url: string,
  done: (s: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = "UNKNOWN";
  while (Date.now() < deadline) {
    const r = await session.call("GET", url).catch(() => undefined);
    if (r?.status === 404) status = "GONE";
    else if (r?.status === 200) status = read(r, ServerStatus, "read a server's status").server.status;
    if (done(status)) return status;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return status;
}

function drillError(what: string, a: { status: number; body: string }): HastackError {
  return new HastackError(
    "E_DRILL_PRECONDITION",
    `Cannot ${what} for the API load: HTTP ${a.status}: ${a.body.slice(0, 160)}`,
  );
}
