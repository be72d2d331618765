import { type Command, InvalidArgumentError } from "commander";
import { readSecrets as readSiteSecrets } from "../inventory/secrets-file.ts";
import { powerControl, powerStatus } from "../lab/bmc.ts";
import { labDown } from "../lab/down.ts";
import { cut, freeze, freezeBmc, heal } from "../lab/faults.ts";
import { ensureGuestImage } from "../lab/guest-image/build.ts";
import { uploadGuest } from "../lab/guest-upload.ts";
import { bmcPassword, readSecrets } from "../lab/identity.ts";
import { ensureImage } from "../lab/image.ts";
import { labUp } from "../lab/lab.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { labInventoryPath } from "../lab/paths.ts";
import { DEFAULT_SIZE, findHost, LAB_NETWORKS, type LabNetwork, planLab } from "../lab/plan.ts";
import { requireRoot } from "../lab/preflight.ts";
import { reinstallHost } from "../lab/reinstall.ts";
import { sshInteractive } from "../lab/ssh.ts";
import { readState, requirePlan } from "../lab/state.ts";
import { formatStatus, labStatus } from "../lab/status.ts";
import { osc } from "../ops/smoke/osc.ts";
import { credentials, firstAnswering } from "../ops/smoke/site.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { inventoryOption, inventoryPath } from "./options.ts";

/** What the lab image must hold: every service's components. */
function components() {
  return services.flatMap((s) => s.components ?? []);
}

const POWER_ACTIONS = ["on", "off", "status", "cycle", "reset", "soft"] as const;
type PowerAction = (typeof POWER_ACTIONS)[number];

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a whole number");
  return n;
}

function network(value: string): LabNetwork {
  if (!(value in LAB_NETWORKS)) {
    throw new InvalidArgumentError(`must be one of ${Object.keys(LAB_NETWORKS).join(", ")}`);
  }
  return value as LabNetwork;
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function registerLab(program: Command): void {
  const lab = program
    .command("lab")
    .description(
      "a real multi-host site on this machine: nspawn hosts, sealed network, virtual BMCs (needs root)",
    );

  lab
    .command("up")
    .description("build or reuse the image and bring the lab up (a no-op when it is up)")
    .option("--controllers <n>", "controllers", count, DEFAULT_SIZE.controllers)
    .option("--computes <n>", "computes", count, DEFAULT_SIZE.computes)
    .option("--storage <n>", "storage hosts", count, DEFAULT_SIZE.storage)
    .option(
      "--cloud",
      "write an inventory with the whole cloud (Nova and Neutron too), as npm run lab deploys",
    )
    .action(async (opts: { controllers: number; computes: number; storage: number; cloud?: boolean }) => {
      const { cloud, ...size } = opts;
      const result = await labUp({ size, components: components(), onProgress: say, cloud: cloud ?? false });
      if (result.alreadyUp) say("lab is already up");
      else {
        const slowest = Math.max(...Object.values(result.bootMs));
        say(
          `lab is up: ${result.plan.hosts.length} hosts reachable over SSH after ${(slowest / 1000).toFixed(1)} s`,
        );
      }
      process.stdout.write(`${labInventoryPath()}\n`);
    });

  lab
    .command("down")
    .description("remove every lab process, mount, cgroup, bridge and the namespace (keeps keys and secrets)")
    .action(async () => {
      requireRoot();
      await labDown(say);
    });

  lab
    .command("status")
    .description("hosts, power, addresses, memory")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const state = await readState();
      const status = await labStatus(state ? planLab(state.size) : undefined);
      process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      if (status.hosts.some((h) => h.power === "off")) process.exitCode = 1;
      if (!status.up) process.exitCode = 2;
    });

  lab
    .command("image")
    .description("build the lab image if needed and print its path")
    .action(async () => {
      requireRoot();
      process.stdout.write(`${await ensureImage({ components: components(), onProgress: say })}\n`);
    });

  lab
    .command("guest-image")
    .description(
      "put the lab's guest image (built from Debian packages, cached) into Glance as hastack-guest, raw, and the hastack.tiny flavor; leaves an image of the same recipe alone",
    )
    .addOption(inventoryOption())
    .action(async (opts: { inventory: string }) => {
      requireRoot();
      const guest = await ensureGuestImage({ onProgress: say });
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const secrets = await readSiteSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      try {
        const admin = osc(
          await firstAnswering(topology, pool.get),
          credentials(topology, (n) => secrets[n], "admin"),
        );
        await uploadGuest(admin, guest, say);
      } finally {
        await pool.closeAll();
      }
    });

  lab
    .command("power")
    .description("power a host through its BMC (IPMI lanplus, like a fence agent)")
    .argument("<host>")
    .argument("<action>", POWER_ACTIONS.join("|"))
    .action(async (name: string, action: string) => {
      if (!(POWER_ACTIONS as readonly string[]).includes(action)) {
        throw new HastackError(
          "E_LAB_USAGE",
          `Cannot power ${name} ${action}: use one of ${POWER_ACTIONS.join(", ")}`,
        );
      }
      const host = findHost(await requirePlan(), name);
      const password = bmcPassword(await readSecrets(), name);
      if ((action as PowerAction) === "status") {
        process.stdout.write(`${await powerStatus(host, password)}\n`);
        return;
      }
      await powerControl(host, password, action as Exclude<PowerAction, "status">);
      say(`${name}: power ${action}`);
    });

  lab
    .command("reinstall")
    .description(
      "a host whose disk died, reinstalled: powered off through its BMC, its disk (overlay) erased, booted from the bare image with the same name, addresses and SSH host key; `hastack deploy` brings it back",
    )
    .argument("<host>")
    .action(async (name: string) => {
      const r = await reinstallHost(name, say);
      say(`${name}: reinstalled in ${(r.ms / 1000).toFixed(1)} s; it runs nothing hastack deployed`);
    });

  lab
    .command("cut")
    .description("drop all traffic of a host on one network, or on all of them")
    .argument("<host>")
    .option("--net <name>", "management|storage|provider|bmc", network)
    .action(async (name: string, opts: { net?: LabNetwork }) => {
      const nets = await cut(findHost(await requirePlan(), name), opts.net);
      say(`${name}: cut off ${nets.join(", ")}`);
    });

  lab
    .command("heal")
    .description("undo `lab cut`")
    .argument("<host>")
    .option("--net <name>", "management|storage|provider|bmc", network)
    .action(async (name: string, opts: { net?: LabNetwork }) => {
      const nets = await heal(findHost(await requirePlan(), name), opts.net);
      say(`${name}: back on ${nets.join(", ")}`);
    });

  lab
    .command("freeze")
    .description("hang a host (cgroup freezer): processes stop, the kernel still answers pings")
    .argument("<host>")
    .option("--bmc", "hang the host's BMC instead: IPMI requests to it time out")
    .action(async (name: string, opts: { bmc?: boolean }) => {
      const host = findHost(await requirePlan(), name);
      await (opts.bmc ? freezeBmc(host, true) : freeze(host, true));
      say(`${name}: ${opts.bmc ? "BMC " : ""}frozen`);
    });

  lab
    .command("thaw")
    .description("undo `lab freeze`")
    .argument("<host>")
    .option("--bmc", "thaw the host's BMC")
    .action(async (name: string, opts: { bmc?: boolean }) => {
      const host = findHost(await requirePlan(), name);
      await (opts.bmc ? freezeBmc(host, false) : freeze(host, false));
      say(`${name}: ${opts.bmc ? "BMC " : ""}thawed`);
    });

  lab
    .command("ssh")
    .description("ssh to a lab host as root (lab ssh ctl1 -- hostname)")
    .argument("<host>")
    .argument("[command...]")
    .action(async (name: string, command: string[]) => {
      const code = await sshInteractive(findHost(await requirePlan(), name), command);
      process.exitCode = code;
    });
}
