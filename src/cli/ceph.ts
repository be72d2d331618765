import type { Command } from "commander";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { cephJson } from "../services/ceph/ceph-tool.ts";
import { monHosts, osdHosts } from "../services/ceph/layout.ts";
import { maintenanceOff, maintenanceOn } from "../services/ceph/maintenance.ts";
import { QuorumStatus } from "../services/ceph/schemas.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import type { Topology } from "../topology/types.ts";
import { sshPool, type TransportPool } from "../transport/pool.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import { registerCephDrill } from "./ceph-drill.ts";
import { registerCephReplace } from "./ceph-replace.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface CephOptions {
  inventory: string;
  json?: boolean;
}

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

export function registerCeph(program: Command): void {
  const ceph = program
    .command("ceph")
    .description("Ceph operations from the book, each refusing what is unsafe");
  registerCephDrill(ceph, adminHost);
  registerCephReplace(ceph, adminHost);
  ceph
    .command("maintenance")
    .argument("<host>", "a storage host")
    .argument(
      "<state>",
      "on: noout for its OSDs, then stop them; off: start them, clear noout, wait for active+clean",
    )
    .description("take a storage host's OSDs out of service and back, never leaving a PG below min_size")
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (host: string, state: string, opts: CephOptions) => {
      requireKnownNames("state", [state], ["on", "off"], "maintenance states");
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      requireKnownNames(
        "host",
        [host],
        osdHosts(topology).map((h) => h.name),
        "storage hosts with OSDs",
      );
      const pool = sshPool(topology);
      const started = performance.now();
      try {
        const io = {
          admin: await adminHost(topology, pool),
          host: pool.get(host),
          log: (line: string) => {
            if (!opts.json) process.stderr.write(`${line}\n`);
          },
        };
        const ids = state === "on" ? await maintenanceOn(io, host) : await maintenanceOff(io, host);
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) printJson({ host, state, osds: ids, seconds });
        else
          process.stdout.write(
            `${host}: maintenance ${state} (${ids.map((i) => `osd.${i}`).join(", ")}) in ${seconds.toFixed(1)} s\n`,
          );
      } finally {
        await pool.closeAll();
      }
    });
}
