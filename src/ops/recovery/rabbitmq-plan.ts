/**
 * @module
 * The RabbitMQ half of `hastack recover`. After a full stop, each node's metadata store (Mnesia)
 * waits for the peers that were running when it stopped: with one of them dead, the survivors
 * wait forever (the issue's "node not running" on both). `force_boot` on the node that stopped
 * last ends the wait without losing what the others knew; forcing another node loses the
 * definitions changed after it stopped. hastack runs `cluster_partition_handling = pause_minority`
 * (services/rabbitmq/settings.ts), and the decision leans on it: a node that outlived the
 * survivors alone was a minority, paused, and could not go on taking changes.
 *
 * A dead node is never forgotten merely for being off: it stays a member, rejoins by itself when
 * powered on, and its quorum queue members catch up. Forgetting is for a node gone for good.
 */
import { type QueueAction, type QueueShortfall, type QuorumQueue, queueRepair } from "./rabbitmq-queues.ts";
import { absence, describePower, listHosts, type PowerFacts, unknownPowerWhy } from "./types.ts";

export type RabbitNode =
  | { host: string; state: "unreachable" }
  /**
   * stopped: rabbitmq-server does not run. booting: the Erlang node runs but the rabbit app waits
   * for its peers. `runningAtShutdown`: the hosts in its nodes_running_at_shutdown file (itself
   * included), which RabbitMQ rewrites at every membership change; absent when unreadable.
   */
  | { host: string; state: "stopped" | "booting"; runningAtShutdown?: string[] }
  /** The rabbit app runs; `members` and `running` as its cluster_status lists them (host names). */
  | { host: string; state: "running"; members: string[]; running: string[]; partitions: number };

export interface RabbitFacts {
  /** Every controller, in inventory order. */
  nodes: RabbitNode[];
  /** BMC and fence facts of the unreachable controllers, by host. */
  power: Readonly<Record<string, PowerFacts>>;
  /** Controllers gone for good (their disk is lost; being replaced): only these are forgotten. */
  gone?: readonly string[];
  /** The quorum queues, read from a running node (empty while nothing runs). */
  queues?: readonly QuorumQueue[];
  /** The members a quorum queue should have. */
  replicas: number;
}

export type RabbitAction =
  /** Stop it if it is booting, `rabbitmqctl force_boot`, start it. */
  | { kind: "force-boot"; host: string }
  | { kind: "start" | "restart"; host: string }
  /** `rabbitmqctl forget_cluster_node rabbit@<host>` on a running node: also drops its queue members. */
  | { kind: "forget"; host: string }
  | QueueAction;

type Decision = Omit<RabbitPlan, "nodes">;

export interface RabbitPlan {
  /** repair: the cluster runs (or runs once forced) and needs the actions listed. */
  kind: "healthy" | "wait" | "force-boot" | "repair" | "refuse";
  actions: RabbitAction[];
  shortfalls: QueueShortfall[];
  /** Sentences for the operator, naming hosts. */
  reasons: string[];
  /** How each node looked, for the plan text. */
  nodes: { host: string; state: string }[];
}

export function rabbitmqPlan(facts: RabbitFacts): RabbitPlan {
  return { ...decide(facts), nodes: facts.nodes.map((n) => ({ host: n.host, state: describeNode(n) })) };
}

function describeNode(node: RabbitNode): string {
  if (node.state === "running") return `running, sees ${listHosts(node.running)} running`;
  if (node.state === "booting") return "booting, waits for its peers";
  return node.state === "stopped" ? "RabbitMQ stopped" : "unreachable";
}

function decide(facts: RabbitFacts): Decision {
  const refuse = (reasons: string[]): Decision => ({ kind: "refuse", actions: [], shortfalls: [], reasons });
  const missing = facts.nodes.filter((n) => n.state === "unreachable").map((n) => n.host);
  const gone = facts.gone ?? [];
  const refusals: string[] = [];
  const notes: string[] = [];
  for (const host of gone) {
    if (!missing.includes(host))
      refusals.push(
        `${host} is to be forgotten but it answers: a node that runs is not gone. Stop or reinstall it first.`,
      );
    else if (absence(facts.power[host]) !== "confirmed-off")
      refusals.push(
        `${host} is to be forgotten but it is not confirmed off (${describePower(facts.power[host])}): forgetting a node that may still run splits the cluster.`,
      );
  }
  for (const host of missing.filter((h) => !gone.includes(h)))
    if (absence(facts.power[host]) === "confirmed-off")
      notes.push(
        `${host} is off (${describePower(facts.power[host])}): it stays a member and rejoins by itself when powered on.`,
      );
  const forget: RabbitAction[] = gone.map((host) => ({ kind: "forget", host }));

  const running = facts.nodes.filter((n) => n.state === "running");
  if (running.length === 0 && missing.length === facts.nodes.length)
    return refuse(["No controller answers: there is no node to recover from."]);
  if (running.length > 0) {
    const views = new Set(running.map((n) => [...n.members].sort().join(",")));
    if (views.size > 1)
      refusals.push(
        `The running nodes disagree on the cluster's members (${running.map((n) => `${n.host} lists ${listHosts(n.members)}`).join("; ")}): more than one cluster runs. Reset the odd one by hand.`,
      );
    const split = running.filter((n) => n.partitions > 0).map((n) => n.host);
    if (split.length > 0)
      refusals.push(
        `${listHosts(split)} ${split.length > 1 ? "report" : "reports"} a network partition: heal the network first (pause_minority resolves it by itself).`,
      );
    if (refusals.length > 0) return refuse(refusals);
    return clusterRuns(facts, running, forget, notes);
  }

  // Nothing runs. Waiting is right when everyone it waits for is here or booting.
  const unsure = missing.filter((h) => absence(facts.power[h]) === "unknown");
  const booting = missing.filter((h) => absence(facts.power[h]) === "coming-up");
  for (const host of unsure)
    refusals.push(
      `${host} is unreachable and its power state is unknown (${unknownPowerWhy(facts.power[host])}): it may be running with newer definitions. Power it off through its BMC or check it by hand, then run recover again.`,
    );
  if (refusals.length > 0) return refuse(refusals);
  const survivors = facts.nodes.filter(
    (n): n is Extract<RabbitNode, { state: "stopped" | "booting" }> =>
      n.state === "stopped" || n.state === "booting",
  );
  const start = survivors
    .filter((n) => n.state === "stopped")
    .map((n): RabbitAction => ({ kind: "start", host: n.host }));
  if (booting.length === missing.length) {
    const reasons = ["No node runs RabbitMQ."];
    if (booting.length > 0)
      reasons.push(
        `${listHosts(booting)} ${booting.length > 1 ? "are" : "is"} unreachable but powered on (BMC): probably booting. The nodes start together once all are back; if ${listHosts(booting)} ${booting.length > 1 ? "do" : "does"} not come back, power ${booting.length > 1 ? "them" : "it"} off through the BMC and run recover again.`,
      );
    else reasons.push("Every node is here: started together, they find each other and boot without forcing.");
    if (start.length > 0) return { kind: "repair", actions: start, shortfalls: [], reasons };
    return { kind: "wait", actions: [], shortfalls: [], reasons };
  }
  if (booting.length > 0)
    return refuse([
      `${listHosts(booting)} ${booting.length > 1 ? "are" : "is"} unreachable but powered on (BMC), while other peers are off: waiting will not bring the cluster back, and forcing a node while ${booting.length > 1 ? "they" : "it"} may run is unsafe. Wait for ${booting.length > 1 ? "them" : "it"} or power ${booting.length > 1 ? "them" : "it"} off through the BMC, then run recover again.`,
    ]);
  return forceBoot(facts, survivors, missing, forget, notes);
}

function clusterRuns(
  facts: RabbitFacts,
  running: Extract<RabbitNode, { state: "running" }>[],
  forget: RabbitAction[],
  notes: string[],
): Decision {
  const names = running.map((n) => n.host);
  const members = running[0]?.members ?? [];
  const reasons = [`RabbitMQ runs on ${listHosts(names)}.`, ...notes];
  const actions: RabbitAction[] = [...forget];
  for (const n of facts.nodes) {
    if (n.state === "stopped") actions.push({ kind: "start", host: n.host });
    if (n.state === "booting") actions.push({ kind: "restart", host: n.host });
  }
  const gone = forget.map((a) => a.host);
  const repair = queueRepair(facts.queues ?? [], {
    replicas: facts.replicas,
    clusterSize: members.filter((m) => !gone.includes(m)).length,
    running: names,
    forgotten: gone,
  });
  actions.push(...repair.actions);
  for (const s of repair.shortfalls)
    reasons.push(
      `${s.type === "stream" ? "Stream" : "Quorum queue"} ${s.name} (vhost ${s.vhost}) has ${s.members.length} of ${s.members.length + s.add.length + s.unfilled} members${s.add.length > 0 ? `: add ${listHosts(s.add)}` : ""}${s.unfilled > 0 ? `; ${s.unfilled} more once more nodes run` : ""}.`,
    );
  if (gone.length > 0)
    reasons.push(
      `${listHosts(gone)} ${gone.length > 1 ? "are" : "is"} gone for good: forgotten, with ${gone.length > 1 ? "their" : "its"} queue members.`,
    );
  if (actions.length === 0) return { kind: "healthy", actions, shortfalls: repair.shortfalls, reasons };
  return { kind: "repair", actions, shortfalls: repair.shortfalls, reasons };
}

/**
 * The node to force: the survivor that stopped last, read from each survivor's list of nodes
 * running when it stopped (the last to stop lists the fewest; simultaneous stops list the same).
 * Missing nodes on that list may have outlived it: safe only while they were a minority
 * (pause_minority paused them), or when a single survivor is all that is left.
 */
function forceBoot(
  facts: RabbitFacts,
  survivors: Extract<RabbitNode, { state: "stopped" | "booting" }>[],
  missing: string[],
  forget: RabbitAction[],
  notes: string[],
): Decision {
  const refuse = (reasons: string[]): Decision => ({ kind: "refuse", actions: [], shortfalls: [], reasons });
  const only = survivors.length === 1 ? survivors[0] : undefined;
  const unknown = survivors.filter((n) => n.runningAtShutdown === undefined).map((n) => n.host);
  if (unknown.length > 0 && !only)
    return refuse([
      `Which node stopped last is not known (no nodes_running_at_shutdown from ${listHosts(unknown)}): forcing the wrong one loses the definitions changed after it stopped. Find the last node to stop in the RabbitMQ logs and force it by hand.`,
    ]);
  const ordered = survivors.toSorted(
    (a, b) => (a.runningAtShutdown?.length ?? 0) - (b.runningAtShutdown?.length ?? 0),
  );
  const chosen = ordered[0];
  if (!chosen) return refuse(["No node to force-boot."]);
  const last = chosen.runningAtShutdown ?? [chosen.host];
  for (const n of ordered.slice(1))
    if (!last.every((h) => n.runningAtShutdown?.includes(h)))
      return refuse([
        `The survivors' shutdown views contradict each other (${ordered.map((o) => `${o.host} saw ${listHosts(o.runningAtShutdown ?? [])}`).join("; ")}): which node stopped last cannot be told. Force one by hand.`,
      ]);
  const outlived = last.filter((h) => missing.includes(h));
  const majority = outlived.length * 2 > facts.nodes.length;
  const reasons = [
    "No node runs RabbitMQ, and the missing peers are confirmed off: the survivors would wait for them forever.",
  ];
  const together = survivors
    .filter((n) => n !== chosen && n.runningAtShutdown?.length === last.length)
    .map((n) => n.host);
  if (majority && !only)
    return refuse([
      `${listHosts(outlived)} ${outlived.length > 1 ? "were" : "was"} still running when the survivors stopped and, as a majority, may have gone on taking changes: forcing a survivor would lose them. Bring ${outlived.length > 1 ? "one of them" : "it"} back, or force a node by hand.`,
    ]);
  if (only && (majority || unknown.length > 0))
    reasons.push(
      `${chosen.host} is the only survivor: it is forced although ${outlived.length > 0 ? `${listHosts(outlived)} may have run on after it (what ${outlived.length > 1 ? "they" : "it"} changed since is lost)` : "its shutdown view is unknown"}.`,
    );
  else if (outlived.length > 0)
    reasons.push(
      `${chosen.host}${together.length > 0 ? ` and ${listHosts(together)}` : ""} stopped last of the survivors; ${listHosts(outlived)} ${outlived.length > 1 ? "were" : "was"} still running then but, a minority alone, paused (pause_minority): at most the changes of its last seconds are lost, never a quorum queue's messages.`,
    );
  else
    reasons.push(
      `${chosen.host} was the last to stop${together.length > 0 ? `, with ${listHosts(together)}` : ""}: it holds every definition.`,
    );
  const actions: RabbitAction[] = [{ kind: "force-boot", host: chosen.host }];
  for (const n of survivors)
    if (n !== chosen) actions.push({ kind: n.state === "stopped" ? "start" : "restart", host: n.host });
  const others = actions.slice(1).map((a) => ("host" in a ? a.host : ""));
  if (others.length > 0)
    reasons.push(`Then ${listHosts(others)} ${others.length > 1 ? "join" : "joins"} it.`);
  reasons.push(...notes);
  reasons.push("Quorum queue replicas are checked once the cluster runs: run recover again then.");
  return { kind: "force-boot", actions: [...actions, ...forget], shortfalls: [], reasons };
}
