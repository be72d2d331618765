/**
 * @module
 * Is this controller in the quorate partition? The instance-HA engine asks before every fence: an
 * engine cut off from its peers may be the one that is isolated, and powering computes off from a
 * minority partition would fence hosts that the majority still sees alive.
 *
 * Read from `corosync-quorumtool -s` (corosync.ts parses it through zod). Exit 0 is quorate and
 * exit 2 not quorate, both with the full status on stdout; anything else (corosync not running,
 * the tool missing) is an error: the engine then counts it as no quorum.
 */
import type { Transport } from "../transport/types.ts";
import { toolFailure } from "./command.ts";
import { parseQuorumtool } from "./corosync.ts";

export interface QuorumVerdict {
  quorate: boolean;
  /** One sentence for the log and the history: the votes behind the answer. */
  reason: string;
}

/** Throws E_HA_QUORUM when the tool does not answer with a status; bounded by `timeoutMs`. */
export async function readQuorum(
  t: Pick<Transport, "name" | "exec">,
  options: { timeoutMs?: number } = {},
): Promise<QuorumVerdict> {
  const r = await t.exec(["corosync-quorumtool", "-s"], { timeoutMs: options.timeoutMs ?? 5000 });
  if (r.code !== 0 && r.code !== 2) throw toolFailure(t, "E_HA_QUORUM", "read corosync's quorum", r);
  const q = parseQuorumtool(t, r.stdout);
  const votes = `${q.totalVotes} of ${q.expectedVotes} votes, ${q.quorum} needed`;
  // The exit code and the Quorate line must agree; when they do not, trust neither.
  if (q.quorate !== (r.code === 0)) {
    return {
      quorate: false,
      reason: `${t.name}: corosync-quorumtool exit code ${r.code} disagrees with "Quorate: ${q.quorate ? "Yes" : "No"}" (${votes}): counted as no quorum`,
    };
  }
  return {
    quorate: q.quorate,
    reason: q.quorate ? `${t.name} is quorate (${votes})` : `${t.name} is not quorate (${votes})`,
  };
}
