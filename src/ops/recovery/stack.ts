/**
 * @module
 * The cluster stack after a site power loss: hastack keeps corosync and pacemaker off at boot
 * (E19: a fenced node must not rejoin by itself), so after every controller lost power none of
 * them runs it, and with it the VIP and HAProxy stay down even once Galera and RabbitMQ are back
 * (measured on the lab, 2026-12-03: status DOWN after both were recovered). `hastack recover`
 * is the operator's deliberate start: it starts corosync at once on every reachable controller
 * where the stack is off, pacemaker once Galera is back (RabbitMQ recovers beside both), and waits
 * until Pacemaker has quorum. A missing controller
 * is fenced by Pacemaker itself before resources start (its BMC says it is off already).
 */
import { parseCrmMon } from "../../hostkit/crm-mon.ts";
import type { ExecOptions, Transport } from "../../transport/types.ts";
import { type ActContext, runStep, waitUntil } from "./act-step.ts";

export const STACK_UNITS = ["corosync", "pacemaker"] as const;

export interface StackNode {
  host: string;
  /** systemd ActiveState by unit; "unknown" when systemctl gave nothing readable. */
  corosync: string;
  pacemaker: string;
}

export type StackPlan = { kind: "healthy" } | { kind: "start"; hosts: string[]; reasons: string[] };

/** `systemctl is-active corosync pacemaker`: one state per line, in order (exit 3 when one is off). */
export async function collectStackNode(t: Transport, opts: ExecOptions = {}): Promise<StackNode> {
  const r = await t.exec(["systemctl", "is-active", ...STACK_UNITS], opts);
  const [corosync = "unknown", pacemaker = "unknown"] = r.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^[a-z-]+$/.test(l));
  return { host: t.name, corosync, pacemaker };
}

const OFF = new Set(["inactive", "failed"]);

/** Start where a unit is plainly off; a state systemd did not give is left alone, never guessed. */
export function stackPlan(nodes: readonly StackNode[]): StackPlan {
  const off = nodes.filter((n) => OFF.has(n.corosync) || OFF.has(n.pacemaker));
  if (off.length === 0) return { kind: "healthy" };
  return {
    kind: "start",
    hosts: off.map((n) => n.host),
    reasons: [
      `corosync/pacemaker are off on ${off.map((n) => `${n.host} (${n.corosync}/${n.pacemaker})`).join(", ")}: hastack keeps them off at boot (a fenced node must not rejoin by itself), so after a site power loss nothing runs the VIP and HAProxy.`,
      "They start once Galera is back (the instance-HA engine, one of Pacemaker's resources, needs its database), while RabbitMQ recovers beside them; Pacemaker fences a missing controller before it starts resources.",
    ],
  };
}

export function stackText(plan: StackPlan): string {
  if (plan.kind === "healthy") return "Cluster stack: running where reachable, nothing to do";
  return [
    `Cluster stack: start corosync and pacemaker on ${plan.hosts.join(", ")}`,
    "  Why:",
    ...plan.reasons.map((r) => `    - ${r}`),
  ].join("\n");
}

/**
 * corosync on every host, side by side. It runs no resource (Pacemaker does), so it starts at
 * once, beside Galera's recovery: the membership is formed by the time Pacemaker starts.
 */
export async function startMembership(plan: StackPlan, ctx: ActContext): Promise<void> {
  if (plan.kind !== "start") return;
  await Promise.all(
    plan.hosts.map((host) =>
      runStep(ctx, host, "start corosync", ["systemctl", "start", "corosync"], { timeoutMs: 120_000 }),
    ),
  );
}

/** pacemaker on every host once corosync runs there (startMembership), then one controller reports quorum. */
export async function startPacemaker(plan: StackPlan, ctx: ActContext): Promise<void> {
  if (plan.kind !== "start") return;
  for (const host of plan.hosts)
    await runStep(ctx, host, "start pacemaker", ["systemctl", "start", "pacemaker"], { timeoutMs: 120_000 });
  const [first] = plan.hosts;
  if (first === undefined) return;
  await waitUntil(ctx, first, "wait for Pacemaker to have quorum", ctx.timing.bootstrapMs, async () => {
    const t = ctx.transport(first);
    const r = await t.exec(["crm_mon", "--output-as=xml", "--one-shot"], { timeoutMs: 30_000 });
    if (r.code !== 0) return { done: false, seen: `crm_mon exit code ${r.code}` };
    try {
      const mon = parseCrmMon(t, r.stdout);
      return { done: mon.quorum, seen: mon.quorum ? "quorate" : "no quorum yet" };
    } catch {
      return { done: false, seen: "the cluster is still forming" };
    }
  });
}
