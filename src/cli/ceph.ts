import type { Command } from "commander";
import { maintenanceOff, maintenanceOn } from "../services/ceph/maintenance.ts";
import { sshPool } from "../transport/pool.ts";
import { requireKnownNames } from "../util/names.ts";
import { adminHost, storageHostTopology } from "./ceph-common.ts";
import { registerCephDrill } from "./ceph-drill.ts";
import { registerCephReplace } from "./ceph-replace.ts";
import { inventoryOption, jsonOption, printJson } from "./options.ts";

interface CephOptions {
  inventory: string;
  json?: boolean;
}

export function registerCeph(program: Command): void {
  const ceph = program
    .command("ceph")
    .description("Ceph operations from the book, each refusing what is unsafe");
  registerCephDrill(ceph);
  registerCephReplace(ceph);
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
      const topology = await storageHostTopology(host, opts);
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
