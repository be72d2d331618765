/**
 * @module
 * The operator's go-ahead for a recovery. It bootstraps a database and forces a broker: a y/N
 * answered by habit is not enough, so the operator types the site's name (the inventory's
 * `cluster`), as for deleting a repository. Without a terminal there is nobody to ask: only
 * `--yes` goes ahead.
 */
import { createInterface } from "node:readline/promises";
import type { Readable, Writable } from "node:stream";
import { HastackError } from "../../util/errors.ts";

export function confirmationMissing(): HastackError {
  return new HastackError(
    "E_RECOVER_CONFIRM",
    "Cannot recover: stdin is not a terminal, so nobody can confirm the plan, and --yes was not given",
    { hint: "run hastack recover --dry-run to see the plan, then hastack recover --yes to carry it out" },
  );
}

/** Asks for the site name; true when it was typed exactly. */
export async function askSiteName(site: string, input: Readable, output: Writable): Promise<boolean> {
  const rl = createInterface({ input, output, terminal: false });
  try {
    // stdin closed before an answer (Ctrl-D, a pipe that ended) is a no, not a hang.
    const closed = new Promise<string>((resolve) => rl.once("close", () => resolve("")));
    const answer = await Promise.race([
      rl.question(`Type the site name (${site}) to carry out this plan, anything else to stop: `),
      closed,
    ]);
    return answer.trim() === site;
  } finally {
    rl.close();
  }
}
