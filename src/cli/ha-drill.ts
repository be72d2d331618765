import type { Command } from "commander";
import { computePoweroffDrill } from "../instance-ha/drill/compute-poweroff.ts";
import { reportLines } from "../instance-ha/drill/report.ts";
import { openStore } from "../instance-ha/store.ts";
import { siteStoreOptions } from "../instance-ha/store-site.ts";
import { readSecrets } from "../inventory/secrets-file.ts";
import { GUEST_FLAVOR, GUEST_IMAGE_NAME } from "../lab/guest-upload.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { realInjector } from "../ops/drills/real-injector.ts";
import { osc } from "../ops/smoke/osc.ts";
import { credentials, firstAnswering } from "../ops/smoke/site.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface DrillOpts {
  inventory: string;
  json?: boolean;
  host?: string;
  vms: string;
  image: string;
  flavor: string;
}

/** Exit codes: 0 passed, 5 every step happened but too slowly, 1 failed. */
const EXIT = { passed: 0, "missed-budget": 5, failed: 1 } as const;

export function registerHaDrill(ha: Command): void {
  ha.command("drill")
    .description(
      "compute-poweroff: boot VMs on a compute (each writes a marker to its disk), pull its plug through its BMC, and watch the engine fence it and evacuate every VM; then power it on and watch the engine re-enable it",
    )
    .argument("<drill>", "compute-poweroff")
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--host <compute>", "the compute to power off (default: the first compute)")
    .option("--vms <n>", "VMs to boot on it", "3")
    .option("--image <name>", "the guest image (the lab's writes the disk marker)", GUEST_IMAGE_NAME)
    .option("--flavor <name>", "the flavor", GUEST_FLAVOR.name)
    .addHelpText(
      "after",
      "\nExit codes: 0 passed, 5 everything happened but past the budget (detected <= 5 s, every VM ACTIVE <= 30 s), 1 failed.\n",
    )
    .action(async (drill: string, opts: DrillOpts) => {
      requireKnownNames("drill", [drill], ["compute-poweroff"], "instance-HA drills");
      const vms = Number(opts.vms);
      if (!Number.isInteger(vms) || vms < 1)
        throw new HastackError(
          "E_HA_DRILL",
          `Cannot run ${drill}: --vms must be a whole number of 1 or more`,
        );
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
      const injector = realInjector(topology, pool, secrets);
      try {
        const client = await firstAnswering(topology, (h) => pool.get(h));
        const report = await computePoweroffDrill(
          {
            admin: osc(
              client,
              credentials(topology, (n) => secrets[n], "admin"),
            ),
            transport: (h) => pool.get(h),
            power: (h, state) => (state === "off" ? injector.powerOff(h) : injector.powerOn(h)),
            history: (h, since) => store.history({ host: h, since, limit: 500 }),
            log: (line) => {
              if (!opts.json) process.stdout.write(`${line}\n`);
            },
          },
          { host, vms, image: opts.image, flavor: opts.flavor },
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
