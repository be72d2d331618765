/**
 * @module
 * The Galera half of `hastack recover`: from every controller's facts, one decision.
 *
 * - a Primary Component runs: nothing to do, or start the nodes that are out of it (they join);
 * - no Primary, but every member of the last one is up or booting: wait, Galera restores it;
 * - no Primary, the missing controllers confirmed off: bootstrap from the node with the highest
 *   committed seqno, then let the others join;
 * - anything ambiguous: refuse, and say what would make it safe.
 *
 * Bootstrapping a fixed node (the seeds' way) or the node that claims safe_to_bootstrap loses the
 * commits of a node that is ahead (Kolla's LP#1682153). A controller we cannot see may hold a
 * newer Primary Component, so it must be proven off, not assumed dead.
 */
import {
  type GaleraNode,
  type GaleraNodeView,
  type NodePosition,
  nodePosition,
  nodeView,
  type ReachableNode,
  short,
} from "./galera-facts.ts";
import {
  absence,
  describePower,
  listHosts,
  type Position,
  type PowerFacts,
  unknownPowerWhy,
} from "./types.ts";

export interface GaleraFacts {
  /** Every controller, in inventory order: the order ties and joins follow. */
  nodes: GaleraNode[];
  /** BMC and fence facts of the unreachable controllers, by host. */
  power: Readonly<Record<string, PowerFacts>>;
}

/** How a node gets into the cluster once a Primary Component runs. */
export interface JoinStep {
  host: string;
  /** automatic: it runs, connected, and joins the new Primary by itself. */
  how: "start" | "restart" | "automatic";
}

interface Common {
  nodes: GaleraNodeView[];
  /** Sentences for the operator, naming hosts and seqnos. */
  reasons: string[];
}

export type GaleraPlan =
  | ({ kind: "healthy" } & Common)
  | ({ kind: "wait" } & Common)
  | ({ kind: "join"; primary: string[]; join: JoinStep[] } & Common)
  | ({
      kind: "bootstrap";
      from: string;
      position: Position;
      /** pc-bootstrap: SET GLOBAL on the running node; new-cluster: (stop,) safe_to_bootstrap: 1, galera_new_cluster. */
      method: "pc-bootstrap" | "new-cluster";
      join: JoinStep[];
    } & Common)
  | ({ kind: "refuse" } & Common);

export function galeraPlan(facts: GaleraFacts): GaleraPlan {
  const nodes = facts.nodes.map(nodeView);
  const reachable = facts.nodes.filter((n): n is ReachableNode => n.state !== "unreachable");
  if (reachable.length === 0)
    return { kind: "refuse", nodes, reasons: ["No controller answers: there is no node to recover from."] };
  const primaries = reachable.filter((n) => n.state === "running" && n.wsrep?.clusterStatus === "Primary");
  if (primaries.length > 0) return withPrimary(facts, primaries, nodes);
  return waitForLastPrimary(facts, reachable, nodes) ?? bootstrapOrRefuse(facts, reachable, nodes);
}

function missingNodes(facts: GaleraFacts): string[] {
  return facts.nodes.filter((n) => n.state === "unreachable").map((n) => n.host);
}

function withPrimary(facts: GaleraFacts, primaries: ReachableNode[], nodes: GaleraNodeView[]): GaleraPlan {
  const histories = new Map<string, string[]>();
  for (const n of primaries) {
    const uuid = n.state === "running" ? (n.wsrep?.position.uuid ?? "") : "";
    histories.set(uuid, [...(histories.get(uuid) ?? []), n.host]);
  }
  if (histories.size > 1) {
    const each = [...histories].map(([uuid, hosts]) => `${listHosts(hosts)} (history ${short(uuid)})`);
    return {
      kind: "refuse",
      nodes,
      reasons: [
        `Two Primary Components run at once: ${each.join(" and ")}. These are two clusters with different data; choose the one to keep by hand.`,
      ],
    };
  }
  const names = primaries.map((n) => n.host);
  // One component: every member reports the same size, and counts at least the Primaries seen.
  const sizes = primaries.map((n) => (n.state === "running" ? (n.wsrep?.clusterSize ?? 0) : 0));
  if (new Set(sizes).size > 1 || (sizes[0] ?? 0) < primaries.length)
    return {
      kind: "refuse",
      nodes,
      reasons: [
        `${listHosts(names)} are in Primary Components that do not see each other (cluster sizes ${sizes.join(", ")}): the cluster is split and both sides take writes. Choose the side to keep by hand.`,
      ],
    };
  const reasons = [`A Primary Component runs on ${listHosts(names)}.`];
  const join: JoinStep[] = [];
  const coming: string[] = [];
  for (const n of facts.nodes) {
    if (names.includes(n.host) || n.state === "unreachable") continue;
    if (n.state === "stopped") join.push({ host: n.host, how: "start" });
    else if (!n.wsrep) coming.push(n.host);
    else join.push({ host: n.host, how: "restart" });
  }
  for (const n of primaries) {
    const state = n.state === "running" ? n.wsrep?.localState : undefined;
    if (state === "Joining" || state === "Joined") coming.push(n.host);
  }
  if (join.length > 0)
    reasons.push(
      `${listHosts(join.map((j) => j.host))} ${join.length > 1 ? "are" : "is"} out of it: started, ${join.length > 1 ? "they join" : "it joins"} by IST or SST.`,
    );
  if (coming.length > 0) reasons.push(`${listHosts(coming)} ${coming.length > 1 ? "are" : "is"} joining.`);
  for (const host of missingNodes(facts))
    reasons.push(
      `${host} is unreachable (${describePower(facts.power[host])}): it rejoins by itself when it is back.`,
    );
  if (join.length > 0) return { kind: "join", nodes, primary: names, join, reasons };
  return { kind: coming.length > 0 ? "wait" : "healthy", nodes, reasons };
}

/**
 * Galera's pc.recovery: nodes restarted with their gvwstate.dat restore the saved Primary
 * Component once all its members are back. Waiting is right when every member runs, or is a
 * missing controller that is powered on (booting); members are matched by the gcomm uuid each
 * node saved as its own. Undefined when waiting would not bring the Primary back.
 */
function waitForLastPrimary(
  facts: GaleraFacts,
  reachable: ReachableNode[],
  nodes: GaleraNodeView[],
): GaleraPlan | undefined {
  const saved = reachable.flatMap((n) => (n.gvwstate ? [{ host: n.host, view: n.gvwstate }] : []));
  const newest = saved.toSorted((a, b) => b.view.view.seq - a.view.view.seq)[0];
  if (!newest) return undefined;
  const owner = new Map(saved.map((s) => [s.view.myUuid, s.host]));
  const members = newest.view.members.map((m) => owner.get(m.uuid));
  const known = members.filter((h): h is string => h !== undefined);
  const unseen = members.length - known.length;
  const stopped = reachable.filter((n) => known.includes(n.host) && n.state !== "running");
  if (stopped.length > 0) return undefined;
  const missing = missingNodes(facts);
  const booting = missing.filter((h) => facts.power[h]?.power === "on");
  if (unseen > 0 && (booting.length < missing.length || unseen > missing.length)) return undefined;
  const reasons = [
    `No Primary Component runs. ${listHosts(known)} ${known.length > 1 ? "run" : "runs"} and ${known.length > 1 ? "wait" : "waits"} for the last one (view ${newest.view.view.seq}, ${members.length} members${unseen > 0 ? `, ${unseen} of them not reachable` : ""}).`,
  ];
  if (booting.length > 0)
    reasons.push(
      `${listHosts(booting)} ${booting.length > 1 ? "are" : "is"} unreachable but powered on (BMC): probably booting. Galera restores the Primary Component by itself once every member is back.`,
      `If ${listHosts(booting)} ${booting.length > 1 ? "do" : "does"} not come back, power ${booting.length > 1 ? "them" : "it"} off through the BMC and run recover again.`,
    );
  else reasons.push("Every member is back: Galera restores the Primary Component by itself.");
  return { kind: "wait", nodes, reasons };
}

function bootstrapOrRefuse(
  facts: GaleraFacts,
  reachable: ReachableNode[],
  nodes: GaleraNodeView[],
): GaleraPlan {
  const refusals: string[] = [];
  const notes: string[] = [];
  for (const host of missingNodes(facts)) {
    const power = describePower(facts.power[host]);
    const state = absence(facts.power[host]);
    if (state === "unknown")
      refusals.push(
        `${host} is unreachable and its power state is unknown (${unknownPowerWhy(facts.power[host])}): it may still run a Primary Component with newer commits. Power it off through its BMC or check it by hand, then run recover again.`,
      );
    else if (state === "coming-up")
      refusals.push(
        `${host} is unreachable but ${power}: it may be booting, or running a Primary Component this host cannot see. Wait for it, or power it off through its BMC, then run recover again.`,
      );
    else
      notes.push(
        `${host} is confirmed off (${power}): it cannot hold a newer Primary Component; it rejoins by itself when powered on.`,
      );
  }
  const positions = reachable.map((n) => ({ node: n, at: nodePosition(n) }));
  for (const { node, at } of positions)
    if (at.kind === "unknown") refusals.push(`The seqno of ${node.host} cannot be determined: ${at.why}.`);
  const known = positions.flatMap(({ node, at }) =>
    at.kind === "known" ? [{ node, at, pos: at.position }] : [],
  );
  const histories = new Map<string, typeof known>();
  for (const k of known) histories.set(k.pos.uuid, [...(histories.get(k.pos.uuid) ?? []), k]);
  if (histories.size > 1) refusals.push(differentHistories([...histories.values()]));
  if (known.length === 0 && refusals.length === 0)
    refusals.push(
      "No reachable node holds a Galera history (each one is empty): there is nothing to bootstrap from.",
    );
  const best = Math.max(...known.map((k) => k.pos.seqno));
  // Within one history only: across histories the refusal above already says it all.
  const ahead = known.filter((k) => k.pos.seqno === best).map((k) => k.node.host);
  if (histories.size === 1)
    for (const k of known)
      if (k.node.grastate?.safeToBootstrap && k.pos.seqno < best)
        refusals.push(
          `${k.node.host}'s grastate.dat says safe_to_bootstrap: 1 at seqno ${k.pos.seqno}, but ${listHosts(ahead)} ${ahead.length > 1 ? "are" : "is"} ahead at seqno ${best}: the node files contradict each other. Find out what happened before choosing a node by hand.`,
        );
  if (refusals.length > 0) return { kind: "refuse", nodes, reasons: refusals };

  const top = known.filter((k) => k.pos.seqno === best);
  // Ties hold the same commits: prefer a node that runs and answers (no restart), then the one
  // Galera marked safe, then inventory order.
  const rank = (k: (typeof top)[number]) =>
    (inGroup(k.node) ? 0 : 2) + (k.node.grastate?.safeToBootstrap ? 0 : 1);
  const chosen = top.toSorted((a, b) => rank(a) - rank(b))[0];
  if (!chosen) return { kind: "refuse", nodes, reasons: ["No node to bootstrap from."] };
  const method = inGroup(chosen.node) ? "pc-bootstrap" : "new-cluster";
  const join = joinOrder(positions, chosen.node.host, method);
  const reasons = [
    `No Primary Component runs. ${chosen.node.host} holds the highest committed seqno, ${best} (history ${short(chosen.pos.uuid)}, from ${chosen.at.source}).`,
  ];
  const tied = top.filter((k) => k !== chosen).map((k) => k.node.host);
  if (tied.length > 0)
    reasons.push(
      `${listHosts(tied)} ${tied.length > 1 ? "are" : "is"} at the same seqno: every one of them holds every commit.`,
    );
  if (method === "new-cluster" && !chosen.node.grastate?.safeToBootstrap)
    reasons.push(
      `${chosen.node.host} did not stop cleanly (safe_to_bootstrap: 0): it is marked safe for this bootstrap only.`,
    );
  reasons.push(...notes);
  if (join.length > 0)
    reasons.push(
      `Then ${listHosts(join.map((j) => j.host))} ${join.length > 1 ? "join" : "joins"}, most advanced first (IST when the donor's gcache still holds the gap, else SST).`,
    );
  return { kind: "bootstrap", nodes, reasons, from: chosen.node.host, position: chosen.pos, method, join };
}

function differentHistories(groups: { node: ReachableNode; pos: Position }[][]): string {
  const tops = groups
    .map((g) => g.toSorted((a, b) => b.pos.seqno - a.pos.seqno)[0])
    .filter((t) => t !== undefined);
  const each = tops.map((t) => `${t.node.host} at seqno ${t.pos.seqno} of history ${short(t.pos.uuid)}`);
  const equal = new Set(tops.map((t) => t.pos.seqno)).size === 1;
  return equal
    ? `The highest seqnos are equal but from different histories (${each.join(", ")}): these nodes hold different data, and a seqno cannot say which is newer. Choose the history to keep by hand.`
    : `The nodes hold different histories (${each.join(", ")}): seqnos of different histories cannot be compared. Choose the history to keep by hand.`;
}

function joinOrder(
  positions: { node: ReachableNode; at: NodePosition }[],
  from: string,
  method: "pc-bootstrap" | "new-cluster",
): JoinStep[] {
  const seqno = (at: NodePosition) => (at.kind === "known" ? at.position.seqno : -1);
  const order = positions
    .filter((p) => p.node.host !== from)
    .map((p, i) => ({ ...p, i }))
    .toSorted((a, b) => seqno(b.at) - seqno(a.at) || a.i - b.i);
  return order.map(({ node }) => {
    if (node.state === "stopped") return { host: node.host, how: "start" };
    // A running, answering non-Primary node is connected to the bootstrapped one and follows it
    // into the new Primary; after galera_new_cluster (a new process) it is restarted to be sure.
    return { host: node.host, how: method === "pc-bootstrap" && inGroup(node) ? "automatic" : "restart" };
  });
}

/**
 * Runs, answers SQL and is still in the group protocol: pc.bootstrap works only there. A
 * "Disconnected" node closed its group backend ("exception from gcomm, backend must be
 * restarted", lab, 2026-12-03) and takes a restart like a stopped one.
 */
function inGroup(node: ReachableNode): boolean {
  return node.state === "running" && node.wsrep !== undefined && node.wsrep.clusterStatus !== "Disconnected";
}
