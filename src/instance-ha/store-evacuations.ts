/**
 * @module
 * The store's evacuation rows: the claim that keeps a server from being evacuated twice, and
 * what became of each evacuation.
 *
 * Why no VM is evacuated twice, across an engine failover:
 * 1. The engine asks Nova to evacuate a server only after its own claimEvacuation(episode,
 *    server) returned true, i.e. after its INSERT of the row committed.
 * 2. (episode, server_id) is the primary key of ha_evacuations, so at most one such INSERT
 *    commits in the whole cluster: two engines on the same node meet InnoDB's unique check (the
 *    second waits for the first's row lock, then gets a duplicate key); on two Galera nodes the
 *    later write set fails certification (first committer wins), and its automatic retry
 *    (wsrep_retry_autocommit) or our read-back finds the winner's row. Either way one claimer
 *    gets true, every other false.
 * 3. The episode id survives the failover: the engine writes it into ha_hosts (upsertHost)
 *    before its first claim, and a standby takes the episode from there rather than starting a
 *    new one, so its claims of the same servers hit the same keys and lose.
 * 4. A standby finishes an evacuation it inherited from the rows (evacuations(episode)): one in
 *    `requested` or `claimed` is reconciled from Nova (the server's host, its evacuation
 *    migration), not asked again. Only a `claimed` row whose server Nova shows untouched may be
 *    taken over (adoptClaim, a compare-and-set on the claimer), and then by one standby only.
 * A later failure of the same host is another episode: evacuating its servers again then is a
 * new evacuation, not a repeated one.
 */
import { randomBytes } from "node:crypto";
import type { ResultSetHeader } from "mysql2/promise";
import { HastackError } from "../util/errors.ts";
import { CAUGHT_UP, driverCode, type Run } from "./store-connect.ts";
import { type Evacuation, EvacuationRow, type EvacuationStatus, parseRows } from "./store-rows.ts";

export interface Claim {
  episode: string;
  serverId: string;
  name: string;
  fromHost: string;
  at: Date;
}

/** What changed about a claimed evacuation; fields left out keep their value. */
export interface EvacuationUpdate {
  episode: string;
  serverId: string;
  status: EvacuationStatus;
  toHost?: string;
  attempts?: number;
  finishedAt?: Date;
  detail?: string;
}

export interface EvacuationMethods {
  /**
   * True when this engine now owns the evacuation of the server in this episode; false when
   * another does. Throws when the outcome cannot be known (no answer, and the row could not be
   * read back): a later claim may then get false for a row that is this engine's own (its
   * claimed_by is this engine); evacuations() shows it, adoptClaim(…, this engine) takes it back.
   */
  claimEvacuation(claim: Claim): Promise<boolean>;
  /** Takes over a `claimed` row from an engine that is gone (`from`); true for exactly one taker. */
  adoptClaim(episode: string, serverId: string, from: string): Promise<boolean>;
  /** Updates a claimed row (status, target, attempts); an unclaimed one is an error. */
  recordEvacuation(update: EvacuationUpdate): Promise<void>;
  /** The episode's rows, read once this node caught up with the cluster. */
  evacuations(episode: string): Promise<Evacuation[]>;
}

const COLUMNS =
  "episode, server_id, name, from_host, to_host, attempts, status, claimed_by, started_at, finished_at, detail";

export function evacuationMethods(run: Run, engine: string): EvacuationMethods {
  async function claimToken(episode: string, serverId: string): Promise<string | undefined> {
    const rows = await run(
      "read back a claim",
      `${CAUGHT_UP}SELECT claim_token FROM ha_evacuations WHERE episode = ? AND server_id = ?`,
      [episode, serverId],
    );
    return (rows as { claim_token: string }[])[0]?.claim_token;
  }

  return {
    async claimEvacuation(claim) {
      // A token per attempt: if the answer to the INSERT is lost (the VIP moved mid-commit), the
      // row read back tells whether this attempt won; the claimer's name would not (a restarted
      // engine keeps its name).
      const token = randomBytes(16).toString("hex");
      try {
        await run(
          `claim the evacuation of ${claim.serverId} (episode ${claim.episode})`,
          "INSERT INTO ha_evacuations (episode, server_id, name, from_host, attempts, status, claimed_by, claim_token, started_at) VALUES (?, ?, ?, ?, 0, 'claimed', ?, ?, ?)",
          [claim.episode, claim.serverId, claim.name, claim.fromHost, engine, token, claim.at],
        );
        return true;
      } catch (e) {
        const cause = e instanceof HastackError ? e.cause : e;
        if (driverCode(cause) === "ER_DUP_ENTRY") return false;
        // Lost certification after the server's own retry (ER_LOCK_DEADLOCK), or no answer at
        // all: the row, read once the node caught up, says who won. No row: nothing committed,
        // and the caller may claim again.
        const found = await claimToken(claim.episode, claim.serverId);
        if (found !== undefined) return found === token;
        throw e;
      }
    },

    async adoptClaim(episode, serverId, from) {
      const token = randomBytes(16).toString("hex");
      // Compare-and-set on the claimer: of two standbys, the second finds the row no longer
      // `from`'s. `requested` rows are not adoptable: Nova was asked, the standby reconciles.
      const result = (await run(
        "take over a claim",
        "UPDATE ha_evacuations SET claimed_by = ?, claim_token = ? WHERE episode = ? AND server_id = ? AND claimed_by = ? AND status = 'claimed'",
        [engine, token, episode, serverId, from],
      )) as ResultSetHeader;
      if (result.affectedRows === 1) return true;
      return (await claimToken(episode, serverId)) === token;
    },

    async recordEvacuation(u) {
      const result = (await run(
        `record the evacuation of ${u.serverId}`,
        `UPDATE ha_evacuations SET status = ?, to_host = COALESCE(?, to_host), attempts = COALESCE(?, attempts),
           finished_at = COALESCE(?, finished_at), detail = COALESCE(?, detail) WHERE episode = ? AND server_id = ?`,
        [
          u.status,
          u.toHost ?? null,
          u.attempts ?? null,
          u.finishedAt ?? null,
          u.detail ?? null,
          u.episode,
          u.serverId,
        ],
      )) as ResultSetHeader;
      // affectedRows counts matched rows (mysql2 connects with FOUND_ROWS), changed or not.
      if (result.affectedRows === 0) {
        throw new HastackError(
          "E_HA_STORE_QUERY",
          `Cannot record the evacuation of ${u.serverId} (episode ${u.episode}): it was never claimed`,
          { hint: "claimEvacuation first: the claim is what keeps a server from being evacuated twice" },
        );
      }
    },

    async evacuations(episode) {
      const rows = await run(
        "read evacuations",
        `${CAUGHT_UP}SELECT ${COLUMNS} FROM ha_evacuations WHERE episode = ? ORDER BY started_at, server_id`,
        [episode],
      );
      const key = (r: Record<string, unknown>) => `${String(r.episode)}/${String(r.server_id)}`;
      return parseRows("ha_evacuations", key, EvacuationRow, rows);
    },
  };
}
