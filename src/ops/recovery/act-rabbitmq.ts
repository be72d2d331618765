/**
 * @module
 * Carries out a RabbitMQ plan (rabbitmq-plan.ts) over the Transport, in the plan's order:
 * force_boot on the node that stopped last, then the others start and join it, then the nodes
 * declared gone are forgotten and the quorum queues get their members back. Each node is waited
 * for until its rabbit app runs before the next one is touched.
 */
import { appRunning } from "../../hostkit/rabbitmq.ts";
import { HastackError } from "../../util/errors.ts";
import { type ActContext, runStep, waitUntil } from "./act-step.ts";
import { nodeName, RABBITMQ_UNIT } from "./collect-rabbitmq.ts";
import type { RabbitAction, RabbitFacts, RabbitPlan } from "./rabbitmq-plan.ts";
import { queueActionArgv } from "./rabbitmq-queues.ts";

export async function actRabbitmq(plan: RabbitPlan, facts: RabbitFacts, ctx: ActContext): Promise<void> {
  if (plan.kind === "healthy" || plan.kind === "wait" || plan.kind === "refuse") return;
  // Where forget and the queue commands run: a node whose app runs, first the ones already up.
  const running = facts.nodes.flatMap((n) => (n.state === "running" ? [n.host] : []));
  const booting = new Set(facts.nodes.flatMap((n) => (n.state === "booting" ? [n.host] : [])));
  const starts = plan.actions.filter((a) => a.kind === "start" || a.kind === "restart");
  if (running.length === 0 && starts.length === plan.actions.length) {
    await startTogether(ctx, starts);
    return;
  }
  for (const action of plan.actions) await act(ctx, action, running, booting);
}

/**
 * Every peer is here and none runs (the plan's "started together"): each node waits at boot for
 * the others, so starting one and waiting for it before the next would wait out Mnesia's
 * timeout. --no-block queues every start at once; then each is waited for.
 */
async function startTogether(ctx: ActContext, starts: readonly RabbitAction[]): Promise<void> {
  for (const { kind, host } of starts)
    await runStep(ctx, host, `${kind} rabbitmq`, ["systemctl", kind, "--no-block", RABBITMQ_UNIT], {
      timeoutMs: 60_000,
    });
  for (const { host } of starts) await waitRunning(ctx, host, ctx.timing.bootstrapMs);
}

async function act(ctx: ActContext, action: RabbitAction, running: string[], booting: Set<string>) {
  const unit = RABBITMQ_UNIT;
  switch (action.kind) {
    case "force-boot": {
      const host = action.host;
      // force_boot is refused by a running Erlang node: the one waiting for its peers stops first.
      if (booting.has(host))
        await runStep(ctx, host, "stop rabbitmq before force_boot", ["systemctl", "stop", unit], {
          timeoutMs: 120_000,
        });
      await runStep(ctx, host, "force_boot rabbitmq", ["rabbitmqctl", "force_boot"], { timeoutMs: 60_000 });
      await startAndWait(ctx, host, "start", ctx.timing.bootstrapMs);
      running.push(host);
      return;
    }
    case "start":
    case "restart":
      // A node that was booting, waiting for its peers, joins by itself once one of them runs
      // (measured on the lab: ctl2 joined 19 s after ctl1's force_boot). Restarting it then does
      // harm: with ctl3 off, ctl1 alone is a minority and pause_minority pauses it, and ctl2's
      // new boot waited for ctl1's tables until Mnesia gave up, 6 min later (2026-12-03).
      if (action.kind === "restart" && booting.has(action.host) && (await joinsByItself(ctx, action.host))) {
        running.push(action.host);
        return;
      }
      await startAndWait(ctx, action.host, action.kind, ctx.timing.joinMs);
      running.push(action.host);
      return;
    case "forget": {
      const on = runningPeer(running, action.host, "forget");
      await runStep(
        ctx,
        on,
        `forget ${nodeName(action.host)}`,
        ["rabbitmqctl", "forget_cluster_node", nodeName(action.host)],
        { timeoutMs: 60_000 },
      );
      return;
    }
    case "grow":
    case "add-member":
    case "add-replica": {
      const on = runningPeer(running, undefined, "repair the quorum queues and streams");
      const step =
        action.kind === "grow"
          ? `add ${nodeName(action.host)} to the quorum queues that lack it`
          : action.kind === "add-member"
            ? `add ${nodeName(action.host)} to quorum queue ${action.queue}`
            : `add a replica of stream ${action.queue} on ${nodeName(action.host)}`;
      await runStep(ctx, on, step, queueActionArgv(action), { timeoutMs: 120_000 });
      return;
    }
  }
}

/** How long a booting node is given to join a running peer by itself before it is restarted. */
export const JOIN_BY_ITSELF_MS = 120_000;

async function joinsByItself(ctx: ActContext, host: string): Promise<boolean> {
  const deadline = ctx.timing.now() + JOIN_BY_ITSELF_MS;
  for (;;) {
    const up = await appRunning(ctx.transport(host), { timeoutMs: 30_000 }).catch(() => false);
    if (up) {
      ctx.journal.write({
        type: "wait",
        host,
        step: "wait for rabbitmq to join by itself",
        status: "done",
        seen: "running",
      });
      return true;
    }
    if (ctx.timing.now() >= deadline) {
      ctx.journal.write({
        type: "wait",
        host,
        step: "wait for rabbitmq to join by itself",
        status: "failed",
        seen: `not running after ${JOIN_BY_ITSELF_MS / 1000} s: restarting it`,
      });
      return false;
    }
    await ctx.timing.sleep(ctx.timing.pollMs);
  }
}

async function startAndWait(ctx: ActContext, host: string, verb: "start" | "restart", boundMs: number) {
  // rabbitmq-server.service is Type=notify: start returns once the node booted (or timed out).
  await runStep(ctx, host, `${verb} rabbitmq`, ["systemctl", verb, RABBITMQ_UNIT], { timeoutMs: boundMs });
  await waitRunning(ctx, host, boundMs);
}

async function waitRunning(ctx: ActContext, host: string, boundMs: number): Promise<void> {
  await waitUntil(ctx, host, "wait for rabbitmq to run", boundMs, async () => {
    const up = await appRunning(ctx.transport(host), { timeoutMs: 30_000 }).catch(() => false);
    return { done: up, seen: up ? "running" : "the rabbit app does not run" };
  });
}

function runningPeer(running: readonly string[], not: string | undefined, what: string): string {
  const on = running.find((h) => h !== not);
  if (on === undefined)
    throw new HastackError("E_RECOVER_STEP", `Cannot ${what}: no RabbitMQ node runs to do it on`);
  return on;
}
