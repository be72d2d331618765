/**
 * @module
 * The engine's own record of each server's evacuation, one row per server per episode in the
 * site's Galera (store-evacuations.ts). It is what keeps a server from being asked twice across
 * an engine failover (the claim comes before Nova is asked), and what `hastack ha status` shows
 * as evacuations in progress. evacuate.ts speaks to it through `Ledger`; `storeLedger` binds it
 * to the store for one host's episode.
 */
import type { EvacuationMethods } from "./store-evacuations.ts";

/** What became of a server, as the ledger keeps it (a claim is written by `claim` itself). */
export interface LedgerUpdate {
  status: "requested" | "done" | "failed" | "unplaced";
  to?: string;
  attempts?: number;
  detail?: string;
  /** The server's evacuation has ended (done, failed or unplaced). */
  finished?: boolean;
}

export interface Ledger {
  /**
   * Before the first request for a server: undefined when this engine may ask Nova (its claim
   * won, or it took over a claim whose engine died before asking Nova), else why it may not.
   * Throws when that cannot be known: then nothing is asked.
   */
  claim(server: { id: string; name: string }): Promise<string | undefined>;
  /** Best effort: a write that fails is logged, and never stops or fails the evacuation. */
  record(serverId: string, update: LedgerUpdate): Promise<void>;
}

export interface StoreLedgerOptions {
  episode: string;
  /** The failed host. */
  host: string;
  clock?: () => Date;
  /** A write that failed, or a row that was never claimed here (a rebuild someone else asked for). */
  warn?: (line: string) => void;
}

export function storeLedger(
  store: Pick<EvacuationMethods, "claimEvacuation" | "adoptClaim" | "recordEvacuation" | "evacuations">,
  o: StoreLedgerOptions,
): Ledger {
  const now = o.clock ?? (() => new Date());
  return {
    async claim(server) {
      const claim = { episode: o.episode, serverId: server.id, name: server.name, fromHost: o.host };
      if (await store.claimEvacuation({ ...claim, at: now() })) return undefined;
      const row = (await store.evacuations(o.episode)).find((r) => r.serverId === server.id);
      if (!row) return "its claim was lost and could not be read back: not asked, to be safe";
      // Only a claim whose engine died before asking Nova may be taken over: the caller read the
      // server untouched on the failed host right before, so Nova was not asked for it.
      if (row.status === "claimed" && (await store.adoptClaim(o.episode, server.id, row.claimedBy)))
        return undefined;
      return `the engine ${row.claimedBy} holds its evacuation (${row.status}${row.detail ? `: ${row.detail}` : ""})`;
    },
    async record(serverId, u) {
      try {
        await store.recordEvacuation({
          episode: o.episode,
          serverId,
          status: u.status,
          ...(u.to === undefined ? {} : { toHost: u.to }),
          ...(u.attempts === undefined ? {} : { attempts: u.attempts }),
          ...(u.detail === undefined ? {} : { detail: u.detail.slice(0, 1000) }),
          ...(u.finished ? { finishedAt: now() } : {}),
        });
      } catch (error) {
        o.warn?.(
          `cannot record the evacuation of ${serverId} (${u.status}): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    },
  };
}
