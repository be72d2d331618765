/**
 * @module
 * What a plan would do, without its prose: the operator confirms one plan, and the plan computed
 * again right before acting must do the same things, or recover refuses. Reasons and notes are
 * left out (their wording may change with nothing else); hosts, seqnos, methods and order are in.
 */
import type { GaleraPlan } from "./galera-plan.ts";
import type { RabbitAction } from "./rabbitmq-plan.ts";
import type { RecoverReport } from "./recover-report.ts";

export function planKey(report: RecoverReport): string {
  const g = report.galera;
  const galera =
    g.kind === "bootstrap"
      ? { kind: g.kind, from: g.from, position: g.position, method: g.method, join: g.join }
      : g.kind === "join"
        ? { kind: g.kind, primary: g.primary, join: g.join }
        : { kind: g.kind };
  return JSON.stringify({
    verdict: report.verdict,
    galera,
    rabbitmq: JSON.parse(rabbitKey(report)),
    stack: report.stack,
  });
}

/** The RabbitMQ half alone. */
function rabbitKey(report: RecoverReport): string {
  return JSON.stringify({ kind: report.rabbitmq.kind, actions: report.rabbitmq.actions });
}

/** One line: "Galera: bootstrap ctl1 (seqno 9, galera_new_cluster), then start ctl2; RabbitMQ: ...". */
export function planSummary(report: RecoverReport): string {
  const stack =
    report.stack.kind === "start" ? `; cluster stack: start on ${report.stack.hosts.join(", ")}` : "";
  return `Galera: ${galeraSummary(report.galera)}; RabbitMQ: ${report.rabbitmq.kind}${
    report.rabbitmq.actions.length > 0 ? ` (${report.rabbitmq.actions.map(rabbitSummary).join(", ")})` : ""
  }${stack}`;
}

function galeraSummary(g: GaleraPlan): string {
  const join = (steps: { host: string; how: string }[]) =>
    steps.length > 0 ? `, then ${steps.map((j) => `${j.how} ${j.host}`).join(", ")}` : "";
  if (g.kind === "bootstrap")
    return `bootstrap ${g.from} (seqno ${g.position.seqno}, ${g.method})${join(g.join)}`;
  if (g.kind === "join") return `join${join(g.join)}`;
  return g.kind;
}

function rabbitSummary(a: RabbitAction): string {
  if (a.kind === "add-member" || a.kind === "add-replica") return `${a.kind} ${a.host} to ${a.queue}`;
  return `${a.kind} ${a.host}`;
}
