import type { Command } from "commander";
import { historyLines } from "../instance-ha/status-report.ts";
import type { EventKind } from "../instance-ha/store.ts";
import { EVENT_KINDS } from "../instance-ha/store-rows.ts";
import { parseSince } from "../ops/diagnose/collect.ts";
import { hostsWithRole } from "../topology/types.ts";
import { HastackError } from "../util/errors.ts";
import { requireKnownNames } from "../util/names.ts";
import { openSiteStore } from "./ha-status.ts";
import { inventoryOption, jsonOption, printJson } from "./options.ts";

interface HistoryOptions {
  inventory: string;
  json?: boolean;
  host?: string;
  kind?: string;
  since?: string;
  limit: string;
}

/** `ha history`: the engine's decisions, fences and evacuations, one line each, oldest first. */
export function registerHaHistory(ha: Command): void {
  ha.command("history")
    .description(
      "the instance-HA engine's history: every phase change, gate decision, fence, evacuation and alert, oldest first",
    )
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .option("--host <name>", "one compute's entries only")
    .option("--kind <kind>", `one kind of entry only: ${EVENT_KINDS.join(", ")}`)
    .option("--since <when>", "entries from then on: a duration ago (10m, 2h, 1d) or a timestamp")
    .option("--limit <n>", "the newest n entries", "50")
    .action(async (opts: HistoryOptions) => {
      // Every option is checked before the inventory is read or the database reached.
      const query = historyQuery(opts, new Date());
      const { store } = await openSiteStore(opts, (topology) =>
        requireKnownNames(
          "--host",
          opts.host === undefined ? undefined : [opts.host],
          hostsWithRole(topology, "compute").map((h) => h.name),
          "computes",
        ),
      );
      try {
        const events = await store.history(query);
        if (opts.json) printJson(events);
        else if (events.length === 0) process.stdout.write("no entry matches\n");
        else process.stdout.write(`${historyLines(events).join("\n")}\n`);
      } finally {
        await store.close();
      }
    });
}

function historyQuery(opts: HistoryOptions, now: Date) {
  requireKnownNames("--kind", opts.kind === undefined ? undefined : [opts.kind], EVENT_KINDS, "kinds");
  const limit = Number(opts.limit);
  if (!/^\d+$/.test(opts.limit) || limit < 1)
    throw new HastackError(
      "E_HA_HISTORY_OPTION",
      `Cannot read --limit ${opts.limit}: not a whole number above 0`,
    );
  return {
    limit,
    ...(opts.host === undefined ? {} : { host: opts.host }),
    ...(opts.kind === undefined ? {} : { kind: opts.kind as EventKind }),
    ...(opts.since === undefined ? {} : { since: parseSince(opts.since, now, "E_HA_HISTORY_OPTION") }),
  };
}
