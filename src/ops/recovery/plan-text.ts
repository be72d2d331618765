/**
 * @module
 * The recovery plan as the operator reads it before confirming: per service, the nodes as they
 * were found (state, seqno and where it came from, power of the missing ones), the steps in
 * order, and the reasons. A refusal says so first, so that nobody reads its steps as a to-do list.
 */
import type { GaleraNodeView, NodePosition } from "./galera-facts.ts";
import type { GaleraPlan, JoinStep } from "./galera-plan.ts";
import type { RabbitAction, RabbitPlan } from "./rabbitmq-plan.ts";
import { queueActionArgv } from "./rabbitmq-queues.ts";
import { describePower, type PowerFacts } from "./types.ts";

export interface PlanTextInput {
  galera: GaleraPlan;
  rabbitmq: RabbitPlan;
  /** The cluster stack's section (stack.ts), already in words. */
  stack?: string;
  /** The cluster stack has nothing to do (no section, or "nothing to do"). @default true */
  stackIdle?: boolean;
  /** BMC and fence facts of the unreachable controllers, by host. */
  power: Readonly<Record<string, PowerFacts>>;
}

export function planText(input: PlanTextInput): string {
  const sections = [
    galeraText(input.galera, input.power),
    rabbitmqText(input.rabbitmq, input.power),
    ...(input.stack ? [input.stack] : []),
  ];
  const refused = [input.galera, input.rabbitmq].some((p) => p.kind === "refuse");
  // With nothing to carry out (a site found healthy, or after the recovery), "nothing has been
  // changed yet" would promise changes to come: the verdict line alone speaks.
  const idle =
    [input.galera, input.rabbitmq].every((p) => p.kind === "healthy" || p.kind === "wait") &&
    (input.stackIdle ?? true);
  const last = refused
    ? "hastack recover refuses: it changes nothing while any part is ambiguous.\n"
    : idle
      ? ""
      : "Nothing has been changed yet.\n";
  return `${sections.join("\n\n")}\n\n${last}`;
}

export function galeraText(plan: GaleraPlan, power: PlanTextInput["power"]): string {
  const rows = plan.nodes.map((n) => [
    n.host,
    n.state,
    n.state === "unreachable" ? describePower(power[n.host]) : position(n),
  ]);
  return section(`Galera: ${galeraHeadline(plan)}`, rows, galeraSteps(plan), plan.reasons);
}

export function rabbitmqText(plan: RabbitPlan, power: PlanTextInput["power"]): string {
  const rows = plan.nodes.map((n) => [
    n.host,
    n.state,
    n.state === "unreachable" ? describePower(power[n.host]) : "",
  ]);
  return section(`RabbitMQ: ${rabbitHeadline(plan)}`, rows, plan.actions.map(rabbitStep), plan.reasons);
}

function galeraHeadline(plan: GaleraPlan): string {
  switch (plan.kind) {
    case "healthy":
      return "healthy, nothing to do";
    case "wait":
      return "wait, Galera restores its Primary Component by itself";
    case "join":
      return `start the nodes outside the Primary Component (${plan.primary.join(", ")})`;
    case "bootstrap":
      return `bootstrap from ${plan.from} (seqno ${plan.position.seqno})`;
    case "refuse":
      return "REFUSED, nothing will be done";
  }
}

function rabbitHeadline(plan: RabbitPlan): string {
  switch (plan.kind) {
    case "healthy":
      return "healthy, nothing to do";
    case "wait":
      return "wait, the nodes boot together by themselves";
    case "force-boot":
      return `force-boot ${plan.actions[0]?.host ?? "?"}`;
    case "repair":
      return "repair";
    case "refuse":
      return "REFUSED, nothing will be done";
  }
}

function position(n: GaleraNodeView): string {
  const safe = n.safeToBootstrap ? ", safe_to_bootstrap: 1" : "";
  return positionText(n.position) + safe;
}

function positionText(p: NodePosition | undefined): string {
  if (p === undefined) return "";
  if (p.kind === "unknown") return `seqno unknown: ${p.why}`;
  if (p.kind === "empty") return `no history (from ${p.source}): joins by SST`;
  return `seqno ${p.position.seqno} (history ${p.position.uuid.slice(0, 8)}, from ${p.source})`;
}

function galeraSteps(plan: GaleraPlan): string[] {
  if (plan.kind === "join") return plan.join.map(joinStep);
  if (plan.kind !== "bootstrap") return [];
  const silent = plan.nodes.find((n) => n.host === plan.from)?.state.startsWith("MariaDB starting");
  const first =
    plan.method === "pc-bootstrap"
      ? `bootstrap ${plan.from} in place: SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'`
      : `bootstrap ${plan.from}: ${silent ? "stop MariaDB, " : ""}set safe_to_bootstrap: 1 in its grastate.dat, galera_new_cluster`;
  return [first, ...plan.join.map(joinStep)];
}

function joinStep(step: JoinStep): string {
  if (step.how === "automatic")
    return `${step.host} joins by itself (it runs, connected to the bootstrapped node)`;
  return `${step.how} MariaDB on ${step.host}: it joins by IST or SST`;
}

function rabbitStep(action: RabbitAction): string {
  switch (action.kind) {
    case "force-boot":
      return `force-boot ${action.host}: stop RabbitMQ if it waits, rabbitmqctl force_boot, start it`;
    case "start":
    case "restart":
      return `${action.kind} RabbitMQ on ${action.host}`;
    case "forget":
      return `forget ${action.host}: rabbitmqctl forget_cluster_node rabbit@${action.host}, on a running node`;
    case "grow":
      return `${queueActionArgv(action).join(" ")} (${action.queues} quorum queues)`;
    case "add-member":
      return queueActionArgv(action).join(" ");
    case "add-replica":
      return `rabbitmq-streams add_replica --vhost ${action.vhost} ${action.queue} rabbit@${action.host} (as the rabbitmq user)`;
  }
}

function section(title: string, rows: string[][], steps: string[], reasons: string[]): string {
  const widths = [0, 1].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  const lines = [title];
  for (const r of rows)
    lines.push(
      `  ${(r[0] ?? "").padEnd(widths[0] ?? 0)}  ${(r[1] ?? "").padEnd(widths[1] ?? 0)}  ${r[2] ?? ""}`.trimEnd(),
    );
  if (steps.length > 0) lines.push("  Steps:", ...steps.map((s, i) => `    ${i + 1}. ${s}`));
  lines.push("  Why:", ...reasons.map((r) => `    - ${r}`));
  return lines.join("\n");
}
