import type { Command } from "commander";
import { bmcEndpoint } from "../hostkit/ipmi.ts";
import { fenceHost } from "../instance-ha/fence.ts";
import { localIpmi } from "../instance-ha/power-fence.ts";
import { reenableHost } from "../instance-ha/reenable.ts";
import { type RespondReport, respondToFailure } from "../instance-ha/respond.ts";
import { liftStorageFence } from "../instance-ha/storage-fence.ts";
import type { SecretValues } from "../inventory/secrets-file.ts";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { novaApi } from "../openstack/nova.ts";
import { placementApi } from "../openstack/placement.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { hostsWithRole, type Topology } from "../topology/types.ts";
import { sshPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import { adminSession } from "./admin-session.ts";
import { adminHost } from "./ceph-common.ts";
import { registerHaDrill } from "./ha-drill.ts";
import { registerHaHistory } from "./ha-history.ts";
import { registerHaImportUmha } from "./ha-import-umha.ts";
import { registerHaStatus } from "./ha-status.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface HaOptions {
  inventory: string;
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

/** Exit codes of `ha evacuate`: 0 all evacuated (or planned), 3 not fenced (nothing moved), 4 partial. */
const EXIT = { planned: 0, evacuated: 0, "not-fenced": 3, partial: 4 } as const;

export function registerHa(program: Command): void {
  const ha = program.command("ha").description("instance HA: failed computes fenced and their VMs evacuated");
  registerHaStatus(ha);
  registerHaHistory(ha);
  registerHaDrill(ha);
  registerHaImportUmha(ha);
  ha.command("evacuate")
    .description(
      "a compute the operator knows is dead: plan where its VMs go (Placement), fence it (BMC power off confirmed, else a Ceph blocklist), then force it down and disable it in Nova and evacuate every VM, tracked to ACTIVE elsewhere",
    )
    .argument("<host>", "the failed compute")
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--dry-run", "print the plan only: no fence, nothing in Nova")
    .option("-y, --yes", "fence and evacuate (without it only --dry-run runs)")
    .addHelpText(
      "after",
      "\nExit codes: 0 every VM evacuated (or the plan printed), 3 not fenced (nothing was evacuated), 4 some VMs failed or fit nowhere, 1 an error.\n",
    )
    .action(async (host: string, opts: HaOptions) => {
      if (!opts.dryRun && !opts.yes)
        throw new HastackError(
          "E_HA_CONFIRM",
          `Cannot evacuate ${host}: powering a host off needs --yes (or --dry-run for the plan only)`,
        );
      const { topology, secrets } = await load(opts, host);
      const session = await adminSession(topology, secrets, "E_HA_EVACUATE");
      const nova = novaApi(session);
      const placement = placementApi(session);
      const pool = sshPool(topology);
      const log = (line: string) => {
        if (!opts.json) process.stdout.write(`${line}\n`);
      };
      try {
        const target = targetOf(topology, host);
        const report = await respondToFailure(
          host,
          {
            nova,
            placement,
            // Nova's instance disks are always RBD images in the vms pool (services/nova/config.ts),
            // and Cinder's volumes are Ceph's: a storage fence covers every VM.
            disksOnCeph: true,
            log,
            fence: async () =>
              fenceHost(target, {
                ipmi: localIpmi,
                bmcPassword: () => (target.secret ? secrets[target.secret] : undefined),
                storage: { runner: await adminHost(topology, pool) },
                log: (line) => log(`        fence: ${line}`),
              }),
          },
          { dryRun: opts.dryRun ?? false },
        );
        if (opts.json) printJson(report);
        else process.stdout.write(summary(report));
        process.exitCode = EXIT[report.outcome];
      } finally {
        await pool.closeAll();
      }
    });

  ha.command("enable")
    .description(
      "a fenced compute that is back: lift its Ceph blocklist entries (if a storage fence set them), unset force_down, and enable nova-compute once it reports up",
    )
    .argument("<host>", "the compute")
    .addOption(inventoryOption())
    .action(async (host: string, opts: HaOptions) => {
      const { topology, secrets } = await load(opts, host);
      const pool = sshPool(topology);
      try {
        const target = targetOf(topology, host);
        // Lifting is harmless when nothing is listed (Ceph's rm of an absent entry succeeds).
        await liftStorageFence(host, target.storageAddresses, { runner: await adminHost(topology, pool) });
        process.stdout.write(`${host}: no storage address of it is in Ceph's OSD blocklist\n`);
        const nova = novaApi(await adminSession(topology, secrets, "E_HA_EVACUATE"));
        const words = {
          "service-forced-up": "force_down unset",
          "service-up": "nova-compute reports up",
          "service-enabled": "nova-compute enabled",
          "service-left-disabled": "nova-compute left disabled",
        } as const;
        const report = await reenableHost({
          host,
          nova,
          onProgress: (p) =>
            process.stdout.write(`${host}: ${words[p.kind]}${"reason" in p ? `: ${p.reason}` : ""}\n`),
        });
        const left =
          report.leftDisabled.length > 0
            ? `; left disabled: ${report.leftDisabled.map((l) => l.reason).join("; ")}`
            : "";
        process.stdout.write(
          `ha enable ${host}: ${report.enabled.length} nova-compute service(s) enabled in ${report.seconds.toFixed(1)} s${left}\n`,
        );
      } finally {
        await pool.closeAll();
      }
    });
}

async function load(opts: HaOptions, host: string): Promise<{ topology: Topology; secrets: SecretValues }> {
  const file = inventoryPath(opts);
  await enterLabNamespaceIfNeeded(file);
  const topology = await loadTopology(file, services);
  requireKnownNames(
    "host",
    [host],
    hostsWithRole(topology, "compute").map((h) => h.name),
    "computes",
  );
  return { topology, secrets: await readSecrets(topology.secretsFile) };
}

function targetOf(topology: Topology, host: string) {
  const h = topology.hosts.find((x) => x.name === host);
  const storage = h?.addresses.storage;
  return {
    host,
    ...(h?.bmc ? { bmc: bmcEndpoint(h.bmc) } : {}),
    secret: h?.bmc?.password_secret,
    storageAddresses: storage ? [storage] : [],
  };
}

function summary(r: RespondReport): string {
  const words: Record<RespondReport["outcome"], string> = {
    planned: "plan only (dry run): nothing was fenced or moved",
    "not-fenced": "NOT FENCED: nothing was evacuated",
    evacuated: "every VM evacuated",
    partial: "PARTIAL: some VMs were not evacuated",
  };
  const lines = [`ha evacuate ${r.host}: ${words[r.outcome]} in ${r.seconds.toFixed(1)} s`];
  for (const p of r.plan.placements) lines.push(`  plan: ${p.vm} -> ${p.target}`);
  for (const s of r.evacuation?.servers ?? [])
    lines.push(
      `  ${s.id} ${s.name}: ${s.status}${s.to ? ` on ${s.to}` : ""} after ${s.seconds.toFixed(1)} s (${s.attempts} attempt(s))${s.reason ? `: ${s.reason}` : ""}`,
    );
  return `${lines.join("\n")}\n`;
}
