import type { Command } from "commander";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { collectRecoveryFacts } from "../ops/recovery/collect.ts";
import { RECOVER_EXIT, recoverReport, recoverText } from "../ops/recovery/recover-report.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool } from "../transport/pool.ts";
import { HastackError } from "../util/errors.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";

interface RecoverOptions {
  inventory: string;
  json?: boolean;
  dryRun?: boolean;
}

const EXIT_HELP = `
Exit codes:
  ${RECOVER_EXIT["nothing-to-do"]}  nothing to do: healthy, or Galera and RabbitMQ come back by themselves (wait)
  ${RECOVER_EXIT["recovery-needed"]}  a recovery is needed: the plan lists its steps
  ${RECOVER_EXIT.refused}  refused: the state is ambiguous (a missing controller's power unknown, histories
     that differ...); the reasons say what would make it safe
  1  error: no plan (an inventory error, a Galera file not in Galera's format...)

Reading the state runs \`mariadbd --wsrep-recover\` on a controller whose MariaDB is stopped
after a crash (grastate.dat seqno -1), as MariaDB's own start would; nothing else is changed.
`;

export function registerRecover(program: Command): void {
  program
    .command("recover")
    .description(
      "after controllers were lost: read every Galera and RabbitMQ node's state and the missing controllers' power (BMC, fence history), and print the recovery plan",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--dry-run", "read the state and print the plan, change nothing (the only mode implemented yet)")
    .addHelpText("after", EXIT_HELP)
    .action(async (opts: RecoverOptions) => {
      // Before any host is asked: a plan nobody will carry out must not look like a recovery.
      if (!opts.dryRun)
        throw new HastackError(
          "E_RECOVER_NOT_IMPLEMENTED",
          "Cannot recover: carrying out the plan is not implemented yet, only --dry-run is",
          { hint: "run hastack recover --dry-run to see the plan, and do its steps by hand" },
        );
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const secrets = await readSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      try {
        const facts = await collectRecoveryFacts({
          topology,
          transport: pool.get,
          secret: (name) => secrets[name],
        });
        const report = recoverReport(facts);
        if (opts.json) printJson(report);
        else process.stdout.write(recoverText(report));
        process.exitCode = report.exitCode;
      } finally {
        await pool.closeAll();
      }
    });
}
