import { setTimeout as wait } from "node:timers/promises";
import type { Command } from "commander";
import { readSecrets } from "../inventory/secrets-file.ts";
import { enterLabNamespaceIfNeeded } from "../lab/netns.ts";
import { recoverJournal } from "../ops/recovery/act-journal.ts";
import { AUTO_DEFAULTS, type AutoSettings, recoverAuto } from "../ops/recovery/auto.ts";
import { collectRecoveryFacts, type RecoveryFacts } from "../ops/recovery/collect.ts";
import { askSiteName, confirmationMissing } from "../ops/recovery/confirm.ts";
import { isRefusal, recoverAct } from "../ops/recovery/recover-act.ts";
import { RECOVER_EXIT, recoverReport, recoverText } from "../ops/recovery/recover-report.ts";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { sshPool, type TransportPool } from "../transport/pool.ts";
import { inventoryOption, inventoryPath, jsonOption, printJson } from "./options.ts";
import { reportError } from "./run.ts";

interface RecoverOptions {
  inventory: string;
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  gone?: string[];
  auto?: boolean;
  interval: string;
  settle: string;
  cooldown: string;
}

const EXIT_HELP = `
Exit codes:
  ${RECOVER_EXIT["nothing-to-do"]}  nothing to do, or recovered: healthy, or Galera and RabbitMQ come back by themselves (wait)
  ${RECOVER_EXIT["recovery-needed"]}  a recovery is needed: the plan lists its steps (--dry-run, or a further round after acting)
  ${RECOVER_EXIT.refused}  refused: the state is ambiguous (a missing controller's power unknown, histories
     that differ...), the plan was not confirmed, or the state changed between the plan shown
     and the moment to act; nothing was changed
  1  failed: no plan (an inventory error, a Galera file not in Galera's format...), or a step
     failed: the recovery stopped there, and .hastack/runs/recover-*.jsonl says what was done

Reading the state runs \`mariadbd --wsrep-recover\` on a controller whose MariaDB is stopped
after a crash (grastate.dat seqno -1), as MariaDB's own start would; --dry-run changes nothing else.
Without --dry-run, the plan is shown and carried out once the site name is typed (or with --yes).

--auto (opt-in) watches instead and carries a plan out by itself only when every controller it
cannot reach is off by its BMC, two reads in a row gave the same plan, and none of its actions
ran within --cooldown; it runs until stopped (SIGTERM), as a service (docs/recover.md).
`;

export function registerRecover(program: Command): void {
  program
    .command("recover")
    .description(
      "after controllers were lost: read every Galera and RabbitMQ node's state and the missing controllers' power (BMC, fence history), print the recovery plan, and carry it out once confirmed",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--dry-run", "read the state and print the plan, change nothing")
    .option("-y, --yes", "carry out the plan without asking (needed when stdin is not a terminal)")
    .option(
      "--gone <hosts...>",
      "controllers gone for good (disk lost, being replaced), powered off: RabbitMQ forgets them",
    )
    .option("--auto", "watch the site and carry out a safe plan by itself (opt-in; see below)")
    .option(
      "--interval <seconds>",
      "--auto: between two reads of the state",
      String(AUTO_DEFAULTS.intervalMs / 1000),
    )
    .option(
      "--settle <seconds>",
      "--auto: least time between the two reads that must agree",
      String(AUTO_DEFAULTS.settleMs / 1000),
    )
    .option(
      "--cooldown <seconds>",
      "--auto: an action repeated within this is left to the operator",
      String(AUTO_DEFAULTS.cooldownMs / 1000),
    )
    .addHelpText("after", EXIT_HELP)
    .action(async (opts: RecoverOptions, command: Command) => {
      // Acting prints its progress and may ask on the terminal: no JSON document to give.
      if (opts.json && !opts.dryRun) command.error("error: --json goes with --dry-run only");
      // Forgetting a node for good is the operator's call, never the watcher's.
      if (opts.auto && (opts.dryRun || opts.gone))
        command.error("error: --auto goes without --dry-run and --gone");
      const settings = opts.auto ? autoSettings(opts, command) : undefined;
      // Before the inventory, the secrets or any host: a run that cannot be confirmed reads nothing.
      if (!opts.dryRun && !opts.yes && !opts.auto && !process.stdin.isTTY) {
        reportError(confirmationMissing());
        process.exitCode = RECOVER_EXIT.refused;
        return;
      }
      const file = inventoryPath(opts);
      await enterLabNamespaceIfNeeded(file);
      const topology = await loadTopology(file, services);
      const secrets = await readSecrets(topology.secretsFile);
      const pool = sshPool(topology);
      const collect = async () => {
        const facts = await collectRecoveryFacts({
          topology,
          transport: pool.get,
          secret: (name) => secrets[name],
        });
        return opts.gone ? { ...facts, rabbitmq: { ...facts.rabbitmq, gone: opts.gone } } : facts;
      };
      try {
        if (settings) {
          await watch(file, collect, pool, settings);
          return;
        }
        if (opts.dryRun) {
          const report = recoverReport(await collect());
          if (opts.json) printJson(report);
          else process.stdout.write(recoverText(report));
          process.exitCode = report.exitCode;
          return;
        }
        process.exitCode = await recoverAct({
          collect,
          transport: pool.get,
          journal: recoverJournal(file),
          yes: opts.yes === true,
          ...(process.stdin.isTTY
            ? { ask: () => askSiteName(topology.cluster, process.stdin, process.stdout) }
            : {}),
          print: (text) => process.stdout.write(text),
        });
      } catch (error) {
        if (!isRefusal(error)) throw error;
        reportError(error);
        process.exitCode = RECOVER_EXIT.refused;
      } finally {
        await pool.closeAll();
      }
    });
}

function autoSettings(opts: RecoverOptions, command: Command): AutoSettings {
  const ms = (flag: string, value: string, least: number) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < least)
      command.error(`error: ${flag} must be a number of seconds, at least ${least}`);
    return n * 1000;
  };
  return {
    intervalMs: ms("--interval", opts.interval, 1),
    settleMs: ms("--settle", opts.settle, 0),
    cooldownMs: ms("--cooldown", opts.cooldown, 0),
  };
}

/** --auto: until SIGTERM or SIGINT; each recovery journalled in its own file, the watch in one. */
async function watch(
  file: string,
  collect: () => Promise<RecoveryFacts>,
  pool: TransportPool,
  settings: AutoSettings,
): Promise<void> {
  const stop = new AbortController();
  const end = () => stop.abort();
  process.once("SIGTERM", end);
  process.once("SIGINT", end);
  const print = (line: string) =>
    process.stdout.write(`${new Date().toISOString()} recover --auto: ${line}\n`);
  print(
    `watching (every ${settings.intervalMs / 1000} s, settle ${settings.settleMs / 1000} s, cooldown ${settings.cooldownMs / 1000} s)`,
  );
  await recoverAuto({
    // Fresh connections each round: controllers power off and boot while this runs.
    collect: async () => {
      await pool.closeAll();
      return collect();
    },
    act: (facts) => {
      let first = true;
      return recoverAct({
        // The facts the decision was made on are the ones acted on; later reads are fresh.
        collect: async () => {
          if (!first) return collect();
          first = false;
          return facts;
        },
        transport: pool.get,
        journal: recoverJournal(file),
        yes: true,
        print: (text) => process.stdout.write(text),
      });
    },
    journal: recoverJournal(file, new Date(), "recover-auto-"),
    print,
    settings,
    now: Date.now,
    // Woken by SIGTERM: the abort rejects the timer, which only ends the wait.
    sleep: (ms) => wait(ms, undefined, { signal: stop.signal }).catch(() => undefined),
    signal: stop.signal,
  });
  print("stopped");
}
