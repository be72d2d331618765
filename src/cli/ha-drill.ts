import type { Command } from "commander";
import { computeFaultDrill } from "../instance-ha/drill/compute-fault.ts";
import { killActiveEngine } from "../instance-ha/drill/engine-kill.ts";
import { faultPlan, HA_DRILLS, type HaDrillName } from "../instance-ha/drill/faults.ts";
import { reportLines } from "../instance-ha/drill/report.ts";
import { openStore } from "../instance-ha/store.ts";
import { siteStoreOptions } from "../instance-ha/store-site.ts";
import { readSecrets } from "../inventory/secrets-file.ts";
import { GUEST_FLAVOR, GUEST_IMAGE_NAME } from "../lab/guest-upload.ts";
import { enterLabNamespaceIfNeeded, inLabNamespace } from "../lab/netns.ts";
import { novaApi } from "../openstack/nova.ts";
import { placementApi, placementHolds } from "../openstack/placement.ts";
import { labInjector } from "../ops/drills/lab-injector.ts";
import { realInjector } from "../ops/drills/real-injector.ts";
import { osc } from "../ops/smoke/osc.ts";
import { credentials, firstAnswering } from "../ops/smoke/site.ts";
import { ENGINE_RESOURCE } from "../services/instance-ha/engine-files.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import { adminSession } from "./admin-session.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface DrillOpts {
  inventory: string;
  json?: boolean;
  host?: string;
  vms: string;
  image: string;
  flavor: string;
  hold: string;
  count?: string;
}

/** Exit codes: 0 passed, 5 every step happened but too slowly, 1 failed. */
const EXIT = { passed: 0, "missed-budget": 5, failed: 1 } as const;

export function registerHaDrill(ha: Command): void {
  ha.command("drill")
    .description(
      "boot VMs on a compute (each writes a marker to its disk), break the compute, and watch the engine: compute-poweroff (its plug pulled through its BMC), compute-bmc-dead (its BMC hung, then its plug pulled: lab only), compute-storage-cut: each must end fenced with every VM ACTIVE elsewhere, then re-enabled once back; compute-management-cut: no fence, no evacuation, the VMs stay; compute-mass-poweroff: --count computes powered off at once, the valve must close: no fence, no evacuation; engine-killed: compute-poweroff, and the active engine killed mid-evacuation: a standby finishes it, no VM evacuated twice; compute-capacity-short: compute-poweroff with room elsewhere for about half the VMs (memory held in Placement): those of the highest priority (server tag hastack:priority=N) move, the rest stay, named in the history",
    )
    .argument("<drill>", HA_DRILLS.join(" | "))
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--host <compute>", "the compute to power off (default: the first compute)")
    .option("--vms <n>", "VMs to boot on it", "3")
    .option("--image <name>", "the guest image (the lab's writes the disk marker)", GUEST_IMAGE_NAME)
    .option("--flavor <name>", "the flavor", GUEST_FLAVOR.name)
    .option(
      "--hold <seconds>",
      "compute-management-cut, compute-mass-poweroff: how long to watch the VMs stay",
      "90",
    )
    .option(
      "--count <n>",
      "compute-mass-poweroff: computes powered off at once, --host and the next ones (default 3, or every compute of a smaller site)",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 passed, 5 everything happened but past the budget (detected <= 5 s, every VM ACTIVE <= 30 s), 1 failed.\n",
    )
    .action(async (drill: string, opts: DrillOpts) => {
      requireKnownNames("drill", [drill], HA_DRILLS, "instance-HA drills");
      const vms = Number(opts.vms);
      if (!Number.isInteger(vms) || vms < 1)
        throw new HastackError(
          "E_HA_DRILL",
          `Cannot run ${drill}: --vms must be a whole number of 1 or more`,
        );
      // With one VM the squeeze leaves room for it: no VM would be left, nothing tested.
      if (drill === "compute-capacity-short" && vms < 2)
        throw new HastackError(
          "E_HA_DRILL",
          `Cannot run ${drill}: --vms must be 2 or more, so that some VMs have no room and must stay`,
        );
      const hold = Number(opts.hold);
      if (!Number.isFinite(hold) || hold < 10)
        throw new HastackError("E_HA_DRILL", `Cannot run ${drill}: --hold must be 10 seconds or more`);
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const computes = topology.roles.compute;
      const host = opts.host ?? computes[0] ?? "";
      requireKnownNames("host", [host], computes, "computes");
      if (computes.length < 2)
        throw new HastackError("E_HA_DRILL", `Cannot run ${drill}: it needs a second compute to evacuate to`);
      const secrets = await readSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      const store = await openStore({ ...siteStoreOptions(topology, secrets), create: false });
      const injector = (await inLabNamespace())
        ? await labInjector(topology, pool, secrets)
        : realInjector(topology, pool, secrets);
      try {
        const client = await firstAnswering(topology, (h) => pool.get(h));
        // Nova read from here (each VM's state within a second), and Placement for the capacity
        // drill's holds: the admin's session through the public endpoint.
        const session = await adminSession(topology, secrets, "E_HA_DRILL");
        const report = await computeFaultDrill(
          {
            admin: osc(
              client,
              credentials(topology, (n) => secrets[n], "admin"),
            ),
            transport: (h) => pool.get(h),
            fault: faultPlan(
              drill as HaDrillName,
              {
                ...injector,
                killEngine: () =>
                  killActiveEngine((h) => pool.get(h), topology.roles.controller, ENGINE_RESOURCE),
              },
              computes.filter((c) => c !== host),
              opts.count === undefined ? Math.min(3, computes.length) : Number(opts.count),
            ),
            computes,
            nova: novaApi(session),
            ...(drill === "compute-capacity-short"
              ? { room: { placement: placementApi(session), holds: placementHolds(session) } }
              : {}),
            history: (h, since) => store.history({ host: h, since, limit: 500 }),
            log: (line) => {
              if (!opts.json) process.stdout.write(`${line}\n`);
            },
          },
          { host, vms, image: opts.image, flavor: opts.flavor, holdMs: hold * 1000 },
        );
        if (opts.json) printJson(report);
        else process.stdout.write(`${reportLines(report).join("\n")}\n`);
        process.exitCode = EXIT[report.verdict];
      } finally {
        await store.close();
        await pool.closeAll();
      }
    });
}
