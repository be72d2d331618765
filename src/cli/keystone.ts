import type { Command } from "commander";
import { readSecrets, setSecret } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { controllers } from "../services/hosts.ts";
import { FERNET_DIR, FERNET_SECRET, formatKeySecret, parseKeySecret } from "../services/keystone/fernet.ts";
import { rotateFernet } from "../services/keystone/rotate.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface KeystoneOptions {
  inventory: string;
  json?: boolean;
}

export function registerKeystone(program: Command): void {
  const keystone = program.command("keystone").description("Keystone operations");
  keystone
    .command("rotate-keys")
    .description(
      "rotate the Fernet token keys on every controller: the key promoted is one every controller already holds staged; refused while a controller is unreachable; a run after an interrupted one finishes it instead of rotating again",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (opts: KeystoneOptions) => {
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      if (!topology.openstack.enabled.includes("keystone"))
        throw new HastackError(
          "E_KEYSTONE_ROTATE",
          "Cannot rotate the Fernet keys: keystone is not enabled on this site",
          {
            hint: "services.openstack.enabled must list keystone",
          },
        );
      const secrets = await readSecrets(topology.secretsFile);
      const value = secrets[FERNET_SECRET];
      if (value === undefined)
        throw new HastackError(
          "E_SECRET_MISSING",
          `Cannot rotate the Fernet keys: secret ${FERNET_SECRET} is not in ${topology.secretsFile}`,
          {
            hint: "run `hastack secrets init` and deploy first",
          },
        );
      const pool = sshPool(topology);
      const started = performance.now();
      try {
        const result = await rotateFernet(
          controllers(topology).map((h) => ({ name: h.name, transport: pool.get(h.name), dir: FERNET_DIR })),
          parseKeySecret(FERNET_SECRET, value),
          {
            save: (state) => setSecret(topology.secretsFile, FERNET_SECRET, formatKeySecret(state)),
            log: (line) => {
              if (!opts.json) process.stderr.write(`${line}\n`);
            },
          },
        );
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) printJson({ ...result, seconds });
        else
          process.stdout.write(
            result.outcome === "rotated"
              ? `Fernet keys rotated: generation ${result.from} -> ${result.to} on ${controllers(topology).length} controllers in ${seconds.toFixed(1)} s\n`
              : `an interrupted rotation was finished: generation ${result.to} now on ${result.changed.join(", ")}; run again to rotate\n`,
          );
      } finally {
        await pool.closeAll();
      }
    });
}
