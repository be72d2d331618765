/**
 * @module
 * What the Galera decision knows about each controller, and the one question asked of every
 * node before any bootstrap: how far did it get, and how do we know? A seqno is only ever read
 * from something Galera or InnoDB wrote (the running node's status, grastate.dat after a clean
 * stop, --wsrep-recover after a crash), never assumed.
 */
import type { Grastate, Gvwstate, WsrepStatus } from "./galera-state.ts";
import { EMPTY_UUID, type Position } from "./types.ts";

interface Saved {
  /** Absent: no file (never joined, or removed). */
  grastate?: Grastate;
  /** Absent: the node stopped cleanly (Galera deletes it) or was never in a Primary Component. */
  gvwstate?: Gvwstate;
  /**
   * The position `mariadbd --wsrep-recover` found in InnoDB. For a running node that does not
   * answer SQL, the one galera_recovery passed as --wsrep_start_position when it started.
   */
  recovered?: Position;
}

export type GaleraNode =
  | { host: string; state: "unreachable" }
  | ({ host: string; state: "stopped" } & Saved)
  /** `wsrep` is absent while mariadbd runs without answering SQL (waiting for a Primary, or an SST). */
  | ({ host: string; state: "running"; wsrep?: WsrepStatus } & Saved);

export type ReachableNode = Exclude<GaleraNode, { state: "unreachable" }>;

export type PositionSource = "wsrep status" | "grastate.dat" | "--wsrep-recover";

export type NodePosition =
  | { kind: "known"; position: Position; source: PositionSource }
  /** No Galera history at all: it can only join, by a full SST. */
  | { kind: "empty"; source: PositionSource }
  | { kind: "unknown"; why: string };

function empty(p: Position): boolean {
  return p.uuid === EMPTY_UUID && p.seqno === -1;
}

function from(position: Position, source: PositionSource): NodePosition {
  return empty(position) ? { kind: "empty", source } : { kind: "known", position, source };
}

/**
 * The last committed position of a reachable node. InnoDB's word (--wsrep-recover) comes before
 * grastate.dat's, and a disagreement between the two is unknown, not a choice.
 */
export function nodePosition(node: ReachableNode): NodePosition {
  if (node.state === "running" && node.wsrep) return from(node.wsrep.position, "wsrep status");
  const { grastate, recovered } = node;
  const saved = grastate && grastate.uuid !== EMPTY_UUID ? grastate.uuid : undefined;
  if (recovered) {
    if (recovered.uuid === EMPTY_UUID && saved)
      return {
        kind: "unknown",
        why: `grastate.dat names history ${short(saved)} but --wsrep-recover found no position in InnoDB`,
      };
    if (saved && recovered.uuid !== EMPTY_UUID && recovered.uuid !== saved)
      return {
        kind: "unknown",
        why: `grastate.dat names history ${short(saved)} but InnoDB holds ${short(recovered.uuid)}`,
      };
    if (recovered.uuid !== EMPTY_UUID && recovered.seqno < 0)
      return {
        kind: "unknown",
        why: `--wsrep-recover found history ${short(recovered.uuid)} without a seqno`,
      };
    return from(recovered, "--wsrep-recover");
  }
  if (!grastate) return { kind: "unknown", why: "no grastate.dat and no --wsrep-recover result" };
  if (grastate.seqno >= 0 || grastate.uuid === EMPTY_UUID)
    return from({ uuid: grastate.uuid, seqno: grastate.seqno }, "grastate.dat");
  const why =
    node.state === "running"
      ? "MariaDB runs but does not answer SQL, and its start position is not known"
      : "grastate.dat says seqno -1 (it did not stop cleanly) and there is no --wsrep-recover result";
  return { kind: "unknown", why };
}

/** The first block of a uuid: enough to tell histories apart in a sentence. */
export function short(uuid: string): string {
  return uuid.slice(0, 8);
}

/** "Primary, Synced", "MariaDB stopped": how a node looks, for reasons and the plan text. */
export function describeState(node: GaleraNode): string {
  if (node.state === "unreachable") return "unreachable";
  if (node.state === "stopped") return "MariaDB stopped";
  if (!node.wsrep) return "MariaDB starting (does not answer SQL)";
  return `${node.wsrep.clusterStatus}, ${node.wsrep.localState}`;
}

/** One line per node in every plan: what the operator checks the decision against. */
export interface GaleraNodeView {
  host: string;
  state: string;
  /** Reachable nodes only. */
  position?: NodePosition;
  safeToBootstrap?: boolean;
}

export function nodeView(node: GaleraNode): GaleraNodeView {
  const state = describeState(node);
  if (node.state === "unreachable") return { host: node.host, state };
  const view: GaleraNodeView = { host: node.host, state, position: nodePosition(node) };
  if (node.grastate) view.safeToBootstrap = node.grastate.safeToBootstrap;
  return view;
}
