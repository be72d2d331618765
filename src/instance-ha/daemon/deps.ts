/**
 * @module
 * The engine's real dependencies on a controller, from its config and secrets: ipmitool against
 * the computes' BMCs, Nova and Placement through a kept Keystone session on the internal
 * endpoints, `ceph` as the identity allowed to blocklist, corosync's quorum, the history store.
 * Nothing here decides: engine.ts does.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { readQuorum } from "../../hostkit/quorum.ts";
import { keptSession } from "../../openstack/kept-session.ts";
import { novaApi } from "../../openstack/nova.ts";
import { placementApi } from "../../openstack/placement.ts";
import { LocalTransport } from "../../transport/local-transport.ts";
import type { EngineDeps, EngineLog, EngineResponder } from "../engine.ts";
import { storeLedger } from "../evacuation-ledger.ts";
import { fenceHost } from "../fence.ts";
import type { ControlPlaneView } from "../gates.ts";
import type { PowerState } from "../host-state.ts";
import { localIpmi } from "../power-fence.ts";
import type { Receiver } from "../receiver.ts";
import { reenableHost } from "../reenable.ts";
import { evacuateStep, fenceStep, type RespondDeps } from "../respond.ts";
import { liftStorageFence, type StorageFenceDeps } from "../storage-fence.ts";
import type { Store } from "../store.ts";
import type { EngineConfig, EngineSecrets } from "./config.ts";

const Services = z.object({
  services: z.array(z.object({ binary: z.string(), state: z.string(), status: z.string() })),
});

export interface DaemonParts {
  config: EngineConfig;
  secrets: EngineSecrets;
  receiver: Pick<Receiver, "hosts">;
  store: Store;
  log: EngineLog;
}

export function daemonDeps(parts: DaemonParts): EngineDeps & { ready(): Promise<void> } {
  const { config, secrets, receiver, store, log } = parts;
  const session = keptSession({
    authUrl: config.keystone.auth_url,
    username: config.keystone.username,
    project: config.keystone.project,
    password: secrets.keystone_password,
    interface: "internal",
    ...(config.keystone.ca_file ? { ca: readFileSync(config.keystone.ca_file, "utf8") } : {}),
  });
  const nova = novaApi(session);
  const placement = placementApi(session);
  const local = new LocalTransport({ name: config.node });
  const computes = new Map(config.computes.map((c) => [c.name, c]));
  const storage: StorageFenceDeps | undefined = config.ceph
    ? { runner: local, id: { name: config.ceph.name, keyring: config.ceph.keyring } }
    : undefined;

  function respondDeps(host: string, episode?: string): RespondDeps {
    const c = computes.get(host);
    return {
      ...(episode
        ? {
            ledger: storeLedger(store, {
              episode,
              host,
              warn: (line) => log.warn({ host, episode }, line),
            }),
          }
        : {}),
      nova,
      placement,
      disksOnCeph: config.disks_on_ceph,
      settings: config.evacuate,
      log: (line) => log.info({ host }, line),
      fence: () =>
        fenceHost(
          { host, ...(c?.bmc ? { bmc: c.bmc } : {}), storageAddresses: c ? [c.addresses.storage] : [] },
          {
            ipmi: localIpmi,
            bmcPassword: (h) => secrets.bmc_passwords[h],
            ...(storage ? { storage } : {}),
            log: (line) => log.info({ host }, `fence: ${line}`),
          },
        ),
    };
  }

  // Every Nova or Placement call names its endpoint from the catalogue of a login that has
  // succeeded (session.url throws before one has), and evaluates that name before session.call
  // would log in: so whatever asks them logs in first. An engine started before its Keystone user
  // existed otherwise never logged in, and saw the control plane "down" for good (CI, 2026-12-04).
  async function loggedIn(): Promise<void> {
    await session.ready();
  }

  const respond: EngineResponder = {
    fence: (host) => fenceStep(host, respondDeps(host)),
    evacuate: async (host, fence, episode) => {
      await loggedIn();
      return evacuateStep(host, respondDeps(host, episode), fence);
    },
  };

  async function power(host: string): Promise<PowerState> {
    const bmc = computes.get(host)?.bmc;
    const password = secrets.bmc_passwords[host];
    if (!bmc || password === undefined) return "unknown";
    const r = await localIpmi(bmc, password, ["chassis", "power", "status"], { timeoutMs: 4000 });
    return r.ok && r.power ? r.power : "unknown";
  }

  /** The engine's own probes: an answer from each, not Nova's word about itself alone. */
  async function controlPlane(): Promise<ControlPlaneView> {
    // Each probe's failure is an answer (that part is down), never an error: url() throws
    // while no login has succeeded, and the engine asks every second.
    const get = async (type: string, path: string) => {
      await loggedIn();
      const a = await session.call("GET", `${session.url(type)}${path}`, undefined, 4000);
      return a.status === 200 ? a.body : undefined;
    };
    const [services, placementUp, database] = await Promise.all([
      get("compute", "/os-services").then(
        (body) => (body === undefined ? undefined : Services.parse(JSON.parse(body)).services),
        () => undefined,
      ),
      get("placement", "/").then(
        (body) => body !== undefined,
        () => false,
      ),
      store.hosts().then(
        () => true,
        () => false,
      ),
    ]);
    const up = (binary: string) =>
      services?.some((s) => s.binary === binary && s.state === "up" && s.status === "enabled") ?? false;
    return {
      novaApi: services !== undefined,
      novaScheduler: up("nova-scheduler"),
      novaConductor: up("nova-conductor"),
      placement: placementUp,
      database,
    };
  }

  return {
    ready: () => session.ready(),
    computes: () => config.computes.map((c) => c.name),
    view: () => receiver.hosts,
    power,
    controlPlane,
    quorate: () => readQuorum(local, { timeoutMs: 4000 }),
    respond,
    async reenable(host, leaveDisabled) {
      const c = computes.get(host);
      // Harmless when nothing is listed: removing an absent entry succeeds.
      if (storage && c) await liftStorageFence(host, [c.addresses.storage], storage);
      await loggedIn();
      await reenableHost({ host, nova, leaveDisabled });
    },
    async operatorEnabled(host) {
      await loggedIn();
      const services = await nova.computeServices(host);
      return (
        services.length > 0 &&
        services.every((s) => s.status === "enabled" && s.state === "up" && !s.forced_down)
      );
    },
    history: store,
    log,
  };
}
