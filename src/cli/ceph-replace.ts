import type { Command } from "commander";
import { startDeliberately, systemctl } from "../hostkit/systemd.ts";
import { replaceOsd } from "../services/ceph/replace-osd.ts";
import { cephSettings, osdSpecs } from "../services/ceph/settings.ts";
import { sshPool } from "../transport/pool.ts";
import { requireKnownNames } from "../util/names.ts";
import { adminHost, storageHostTopology } from "./ceph-common.ts";
import { inventoryOption, jsonOption, printJson } from "./options.ts";

interface ReplaceOptions {
  inventory: string;
  json?: boolean;
  osd?: string;
  inPlace?: boolean;
  pauseForSwap?: boolean;
  timeout: string;
}

export function registerCephReplace(ceph: Command): void {
  ceph
    .command("replace-osd")
    .argument("<host>", "a storage host")
    .argument(
      "<device>",
      "the OSD's device as the inventory lists it (osd_devices), or the lab's osd_file path",
    )
    .description(
      "replace an OSD's disk: drain it (out, wait for active+clean), stop and destroy it keeping its id, zap and prepare the new disk, start it, wait for backfill; refuses what would leave PGs below min_size",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--osd <id>", "the OSD to replace when its dead disk no longer names it")
    .option(
      "--in-place",
      "do not drain (when no other failure domain can take its copies): its PGs run degraded, at or above min_size, until backfill ends",
    )
    .option(
      "--pause-for-swap",
      "stop once the OSD is destroyed, to swap the disk; run again without it to finish",
    )
    .option("--timeout <minutes>", "for the drain and for the backfill each", "360")
    .action(async (host: string, device: string, opts: ReplaceOptions) => {
      const topology = await storageHostTopology(host, opts);
      const settings = cephSettings(topology);
      const specs = osdSpecs(settings, host);
      // Only a disk the inventory names is ever zapped: a typo must not wipe the wrong one.
      requireKnownNames(
        "device",
        [device],
        specs.map((s) => s.path),
        `OSD devices of ${host} in the inventory`,
      );
      const spec = specs.find((s) => s.path === device);
      if (!spec) return;
      const pool = sshPool(topology);
      try {
        const t = pool.get(host);
        const report = await replaceOsd(
          {
            admin: await adminHost(topology, pool),
            host: t,
            failureDomain: settings.failure_domain,
            startOsd: (id) => startDeliberately(t, "start", [`ceph-osd@${id}`]),
            stopOsd: (id) => systemctl(t, "stop", [`ceph-osd@${id}`]),
            log: (line) => {
              if (!opts.json) process.stderr.write(`${line}\n`);
            },
            timeoutMs: Number(opts.timeout) * 60_000,
          },
          spec,
          {
            ...(opts.osd === undefined ? {} : { osd: Number(opts.osd) }),
            inPlace: opts.inPlace === true,
            pauseForSwap: opts.pauseForSwap === true,
          },
        );
        if (opts.json) printJson(report);
        else
          process.stdout.write(
            report.paused
              ? `osd.${report.osd} on ${host}:${device} destroyed (${report.mode}); swap the disk, then run the same command without --pause-for-swap\n`
              : `osd.${report.osd} on ${host}:${device} replaced (${report.mode}): drained in ${(report.drainMs / 1000).toFixed(1)} s, backfilled in ${(report.backfillMs / 1000).toFixed(1)} s\n`,
          );
      } finally {
        await pool.closeAll();
      }
    });
}
