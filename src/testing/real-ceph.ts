/**
 * @module
 * For tests against a real Ceph 18 in one lab-image container (no systemd: daemons are started
 * by hand where the deploy would call systemctl): the lab's inventory with Ceph on OSD files
 * and copies spread over OSDs, the container with the storage host's files (and the clients'
 * keyrings of the hosts named), the deploy's own cluster steps run on it, monitors made from
 * the initial map, and a whole cluster bootstrapped the deploy's way for tests that only need
 * one. Everything that talks to Ceph is the deploy's code; this only chains it.
 */
import type { InventoryInput } from "../inventory/schema.ts";
import { createMgr, createMon, createOsd } from "../services/ceph/daemons.ts";
import { ceph } from "../services/ceph/index.ts";
import { monAddrVec, monHosts } from "../services/ceph/layout.ts";
import { cephFsid, type OsdSpec } from "../services/ceph/settings.ts";
import { type Container, startContainer } from "../services/openstack/test-container.ts";
import { runStep, type StepRun } from "../services/openstack/test-kit.ts";
import { services } from "../services/registry.ts";
import type { Topology } from "../topology/types.ts";
import { HastackError } from "../util/errors.ts";
import { exampleTopology, generatedSecrets, placedHostFiles, siteTlsSecrets } from "./fixtures.ts";
import { type PlacedFile, toolRoot } from "./real-tools.ts";

export interface CephPools {
  size: number;
  min_size: number;
  pg_num?: number;
}

/**
 * The lab's site with Ceph on 2 GB OSD files, copies spread over OSDs (every OSD is in the one
 * container). `oneStorageHost`: sto2 and sto3 gone, one copy allowed (Ceph refuses size 1
 * unless told so); `edit` changes the inventory further (another host removed...).
 */
function cephTestTopology(o: {
  oneStorageHost: boolean;
  pools: CephPools;
  edit?: (inv: InventoryInput) => void;
}): Topology {
  return exampleTopology("lab", (inv) => {
    if (o.oneStorageHost) for (const h of ["sto2", "sto3"]) delete inv.hosts[h];
    inv.services = {
      ...inv.services,
      ceph: {
        osd_file: { path: "/var/lib/ceph/disk/osd-block", size_gb: 2 },
        failure_domain: "osd",
        pools: o.pools,
      },
    };
    if (o.oneStorageHost)
      inv.overrides = [
        { file: "/etc/ceph/ceph.conf", section: "global", set: { mon_allow_pool_size_one: true } },
      ];
    o.edit?.(inv);
  });
}

/** Every generated secret, and the site's TLS (examples/lab.yaml's hosts' files need its certificate). */
async function cephTestSecrets(topology: Topology): Promise<Record<string, string>> {
  return { ...generatedSecrets(topology), ...(await siteTlsSecrets(topology)) };
}

export interface CephBox {
  box: Container;
  /** The storage host the container stands for (the steps run as that host). */
  host: string;
  topology: Topology;
  secrets: Record<string, string>;
  /** One of the ceph service's deploy steps, the engine's way (check, apply, check). */
  step(id: string): Promise<StepRun>;
  /** A daemon's process started as its unit would (without -f it forks and returns). */
  daemon(kind: "mon" | "mgr" | "osd", id: string): Promise<void>;
  /** Monitors made from the initial map (the site's monitors, or the ones named) and started. */
  createMons(names?: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface CephBoxOptions {
  /** Only sto1 (one copy of everything allowed), or the site's three storage hosts. */
  oneStorageHost: boolean;
  pools: CephPools;
  /** The container's name and hostname: sto1 (the default), or a controller that is also it. */
  name?: string;
  /** Its loopback gets every monitor's storage address; these too (a controller's own...). */
  addresses?: readonly string[];
  /** Hosts whose Ceph files it gets: sto1's (the default), a controller's client keyrings... */
  fileHosts?: readonly string[];
  /** Other files of those hosts it needs (`path` tested), e.g. a Galera configuration. */
  alsoFiles?: (path: string) => boolean;
  /** More setup after Ceph's run directory (daemons of the test's own). */
  setup?: string;
  timeoutMs?: number;
}

const HOST = "sto1";

function cephFiles(o: CephBoxOptions, topology: Topology, secrets: Record<string, string>): PlacedFile[] {
  const wanted = (p: string) => p.includes("ceph") || (o.alsoFiles?.(p) ?? false);
  return (o.fileHosts ?? [HOST])
    .flatMap((h) => placedHostFiles(topology, h, secrets))
    .filter((f, i, all) => wanted(f.path) && all.findIndex((g) => g.path === f.path) === i);
}

/** The site (cephTestTopology), its secrets, and the container standing for sto1, up. */
export async function startCephBox(o: CephBoxOptions): Promise<CephBox> {
  await toolRoot();
  const topology = cephTestTopology(o);
  const secrets = await cephTestSecrets(topology);
  const setup = ["mkdir -p /run/ceph && chown ceph:ceph /run/ceph", ...(o.setup ? [o.setup] : [])].join("\n");
  const name = o.name ?? HOST;
  const box = await startContainer(name, setup, {
    hostname: name,
    addresses: [...monHosts(topology).map((h) => h.addresses.storage ?? h.ip), ...(o.addresses ?? [])],
    files: cephFiles(o, topology, secrets),
    timeoutMs: o.timeoutMs ?? 900_000,
  });
  const step = (id: string) => {
    const spec = ceph.steps?.(topology, services).find((s) => s.id === id);
    if (!spec) throw new HastackError("E_TEST_CONTAINER", `Cannot run ceph step ${id}: no such step`);
    return runStep({
      service: "ceph",
      step: spec,
      host: HOST,
      topology,
      services,
      transport: box.transport,
      secrets,
    });
  };
  const daemon = async (kind: "mon" | "mgr" | "osd", id: string) => {
    const r = await box.transport.exec([`ceph-${kind}`, "-i", id, "--setuser", "ceph", "--setgroup", "ceph"]);
    if (r.code !== 0)
      throw new HastackError(
        "E_TEST_CONTAINER",
        `Cannot start ceph-${kind} -i ${id}: exit code ${r.code}: ${r.stderr.trim()}`,
      );
  };
  const createMons = async (names?: readonly string[]) => {
    const seed = {
      fsid: cephFsid(topology),
      mons: monHosts(topology).map((h) => [h.name, monAddrVec(topology, h)] as [string, string]),
    };
    const keys = {
      mon: secrets.ceph_mon_key ?? "",
      admin: secrets.ceph_admin_key ?? "",
      bootstrapOsd: secrets.ceph_bootstrap_osd_key ?? "",
    };
    for (const mon of names ?? seed.mons.map(([n]) => n)) {
      await createMon(box.transport, mon, keys, seed, false);
      await daemon("mon", mon);
    }
  };
  const stop = async () => {
    await box.stop();
  };
  return { box, host: HOST, topology, secrets, step, daemon, createMons, stop };
}

/** Runs a step and insists it converged: bootstrapping is setup, not what a test checks. */
async function converged(c: CephBox, id: string): Promise<void> {
  const run = await c.step(id);
  if (!run.after)
    throw new HastackError(
      "E_TEST_CONTAINER",
      `Cannot bootstrap the test's Ceph: step ${id} did not converge: ${run.log.slice(-3).join(" / ")}`,
    );
}

/**
 * A working cluster the deploy's way: the site's monitors in quorum, the cephx users, a manager
 * when asked (with the mgr module fix), the OSDs (their ids returned), the pools.
 */
export async function bootstrapCeph(
  c: CephBox,
  o: { osds: readonly OsdSpec[]; mgr: boolean },
): Promise<number[]> {
  if (o.mgr) await converged(c, "mgr-patch");
  await c.createMons();
  await converged(c, "quorum");
  await converged(c, "auth");
  if (o.mgr) {
    await createMgr(c.box.transport, c.host);
    await c.daemon("mgr", c.host);
  }
  const ids: number[] = [];
  for (const spec of o.osds) {
    const id = await createOsd(c.box.transport, c.host, spec);
    await c.daemon("osd", String(id));
    ids.push(id);
  }
  await converged(c, "pools");
  return ids;
}
