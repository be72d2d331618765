/**
 * @module
 * Where a backup is taken: a controller whose Galera node is Synced in the Primary Component and
 * not desynced (a donor or a node desynced by hand is serving someone else, and its data may
 * lag), preferring one that serves no client writes: not the internal VIP's holder (HAProxy runs
 * there) and not the SQL writer (HAProxy's first Galera backend). Pure: the facts come in.
 */
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";

/** What each node is asked (information_schema names, as MariaDB prints them). */
export const NODE_STATE_SQL =
  "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN " +
  "('WSREP_LOCAL_STATE', 'WSREP_READY', 'WSREP_CLUSTER_STATUS', 'WSREP_LOCAL_STATE_UUID', 'WSREP_LAST_COMMITTED') " +
  "UNION ALL SELECT 'WSREP_DESYNC', @@GLOBAL.wsrep_desync";

export const NodeStateSchema = z.object({
  WSREP_LOCAL_STATE: z.string(),
  WSREP_READY: z.string(),
  WSREP_CLUSTER_STATUS: z.string(),
  WSREP_LOCAL_STATE_UUID: z.string().min(1),
  WSREP_LAST_COMMITTED: z.string().regex(/^-?\d+$/),
  WSREP_DESYNC: z.string(),
});
export type NodeState = z.output<typeof NodeStateSchema>;

export interface NodeFacts {
  host: string;
  /** undefined: it did not answer SQL (or is not a Galera node); `why` says what happened. */
  state?: NodeState;
  why?: string;
  /** SSH itself failed: nothing can run there. */
  unreachable?: boolean;
  holdsVip: boolean;
  writer: boolean;
}

/** Why a node cannot be the source, or undefined when it can. */
export function unfitBecause(n: NodeFacts): string | undefined {
  const s = n.state;
  if (!s) return n.why ?? "MariaDB does not answer";
  if (s.WSREP_READY !== "ON") return `wsrep_ready is ${s.WSREP_READY}`;
  if (s.WSREP_CLUSTER_STATUS !== "Primary") return `not in the Primary Component (${s.WSREP_CLUSTER_STATUS})`;
  // 1 (@@wsrep_desync as a number) or ON, as versions print it.
  if (s.WSREP_DESYNC === "1" || s.WSREP_DESYNC === "ON") return "desynced (wsrep_desync=ON)";
  if (s.WSREP_LOCAL_STATE === "2") return "a donor (wsrep_local_state 2)";
  if (s.WSREP_LOCAL_STATE !== "4") return `not Synced (wsrep_local_state ${s.WSREP_LOCAL_STATE})`;
  return undefined;
}

/** The source controller; throws E_BACKUP_NO_SOURCE naming every node's reason when none fits. */
export function chooseSource(nodes: readonly NodeFacts[]): NodeFacts & { state: NodeState } {
  const fit = nodes.filter((n) => unfitBecause(n) === undefined);
  const rank = (n: NodeFacts) => (n.holdsVip ? 2 : 0) + (n.writer ? 1 : 0);
  // Stable sort: among equals, inventory order.
  const best = [...fit].sort((a, b) => rank(a) - rank(b))[0];
  if (best?.state) return best as NodeFacts & { state: NodeState };
  const reasons = nodes.map((n) => `${n.host}: ${unfitBecause(n)}`).join("; ");
  throw new HastackError(
    "E_BACKUP_NO_SOURCE",
    `Cannot back up galera: no controller is Synced and free to take it (${reasons})`,
    { hint: "run `hastack status`; a backup is taken only from a Synced node that is not a donor" },
  );
}

/** Where a scratch restore runs: a reachable controller, the least busy one first (same ranking). */
export function chooseVerifyHost(nodes: readonly Pick<NodeFacts, "host" | "holdsVip" | "writer">[]): string {
  const rank = (n: Pick<NodeFacts, "holdsVip" | "writer">) => (n.holdsVip ? 2 : 0) + (n.writer ? 1 : 0);
  const best = [...nodes].sort((a, b) => rank(a) - rank(b))[0];
  if (!best)
    throw new HastackError("E_BACKUP_NO_SOURCE", "Cannot verify a backup: no controller can be reached");
  return best.host;
}

/** Where a site without Ceph stores a backup: another controller than the source, least busy first. */
export function chooseHolder(
  source: string,
  nodes: readonly Pick<NodeFacts, "host" | "holdsVip" | "writer">[],
): string {
  const others = nodes.filter((n) => n.host !== source);
  if (others.length === 0)
    throw new HastackError(
      "E_BACKUP_NO_SOURCE",
      `Cannot store a backup off ${source}: no other controller can be reached and Ceph is not configured`,
      { hint: "a backup kept on the controller that took it is lost with that controller" },
    );
  return chooseVerifyHost(others);
}
