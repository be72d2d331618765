/**
 * @module
 * What the `hastack ceph` verbs share: the topology with a storage host checked against it, and
 * a monitor host to run `ceph` on.
 */
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { cephJson } from "../services/ceph/ceph-tool.ts";
import { monHosts, osdHosts } from "../services/ceph/layout.ts";
import { QuorumStatus } from "../services/ceph/schemas.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import type { Topology } from "../topology/types.ts";
import type { TransportPool } from "../transport/pool.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import { inventoryPath } from "./options.ts";

/** The first monitor host whose `ceph` gets an answer (it holds the admin keyring). */
export async function adminHost(
  topology: Topology,
  pool: TransportPool,
  except?: string,
): Promise<Transport> {
  for (const h of monHosts(topology).filter((m) => m.name !== except)) {
    const t = pool.get(h.name);
    const ok = await cephJson(t, ["quorum_status"], QuorumStatus, { connectTimeoutS: 5 }).then(
      () => true,
      () => false,
    );
    if (ok) return t;
  }
  throw new HastackError("E_CEPH", "Cannot reach a Ceph monitor with a quorum from any monitor host", {
    hint: "hastack status --only ceph says which monitors are down",
  });
}

/** The inventory's topology, once `host` is known to be one of its storage hosts with OSDs. */
export async function storageHostTopology(host: string, opts: { inventory: string }): Promise<Topology> {
  const file = inventoryPath(opts);
  await enterLabNamespaceIfNeeded(file);
  const topology = await loadTopology(file, services);
  requireKnownNames(
    "host",
    [host],
    osdHosts(topology).map((h) => h.name),
    "storage hosts with OSDs",
  );
  return topology;
}
