/**
 * @module
 * Every quorum queue and stream with a replica on every controller, as the cluster made them. A
 * forgotten node (a reinstalled controller, rejoin.ts; `hastack recover` forgetting a dead one)
 * takes its replicas with it, and nothing gives them back by itself: peers' operators repair
 * them by hand (stackhpc-kayobe-config PR #2532). Until then a queue of 3 has 2 replicas, and
 * one more lost controller takes it down. Streams too: oslo.messaging's fanout queues are
 * streams here (rabbit_stream_fanout), and on the lab two controllers replaced in turn left
 * every one of them on the third alone; with it down, no service on the others could start
 * ("home node 'rabbit@ctl3' of durable queue 'conductor_fanout'", 2026-12-05).
 */
import { RABBITMQ_STREAMS } from "../../hostkit/rabbitmq.ts";
import { mgmtQueueMembers } from "../../hostkit/rabbitmq-http.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLine } from "../../util/text.ts";
import { controllers } from "../hosts.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { adminCredentials } from "./admin.ts";
import { nodeName } from "./rejoin.ts";

export interface QueueGap {
  vhost: string;
  queue: string;
  type: "quorum" | "stream";
  missing: string[];
}

/** Quorum queues and streams lacking a replica on any of `nodes`; pure, for tests. */
export function queueGaps(
  queues: readonly { vhost: string; name: string; type: string; members?: string[] }[],
  nodes: readonly string[],
): QueueGap[] {
  const gaps: QueueGap[] = [];
  for (const q of queues) {
    if (q.type !== "quorum" && q.type !== "stream") continue;
    const missing = nodes.filter((n) => !q.members?.includes(n));
    if (missing.length > 0) gaps.push({ vhost: q.vhost, queue: q.name, type: q.type, missing });
  }
  return gaps;
}

async function gaps(ctx: StepContext): Promise<QueueGap[]> {
  const queues = await mgmtQueueMembers(ctx.transport, adminCredentials(ctx.topology, ctx.secret), {
    signal: ctx.signal,
  });
  return queueGaps(
    queues,
    controllers(ctx.topology).map((h) => nodeName(h.name)),
  );
}

function describe(list: QueueGap[]): string {
  const nodes = [...new Set(list.flatMap((g) => g.missing))];
  return `${list.length} quorum queue(s) or stream(s) without a replica on ${nodes.join(", ")} (first: ${list[0]?.type} ${list[0]?.vhost} ${list[0]?.queue})`;
}

async function repair(
  ctx: StepContext,
  node: string,
  argv: string[],
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const host = node.replace(/^rabbit@/, "");
  const r = await ctx.peer(host).exec(argv, { timeoutMs, signal: ctx.signal });
  if (r.code !== 0)
    throw new HastackError(
      "E_RABBITMQ_JOIN",
      `Cannot add ${node}'s ${what} on ${host}: exit code ${r.code}: ${lastLine(r.stderr || r.stdout)}`,
    );
}

export const replicas: StepSpec = {
  id: "replicas",
  title:
    "Every quorum queue and stream has a replica on every controller (rabbitmq-queues grow, rabbitmq-streams add_replica where one lacks)",
  on: "bootstrap",
  after: ["users"],
  timeoutMs: 600_000,
  async check(ctx) {
    const list = await gaps(ctx);
    if (list.length > 0) ctx.log.info(describe(list));
    return list.length === 0;
  },
  async apply(ctx) {
    const before = await gaps(ctx);
    const quorum = before.filter((g) => g.type === "quorum");
    for (const node of [...new Set(quorum.flatMap((g) => g.missing))]) {
      ctx.log.info(`adding ${node} to every quorum queue that lacks it`);
      await repair(ctx, node, ["rabbitmq-queues", "grow", node, "all"], "quorum queue replicas", 480_000);
    }
    // No `grow` for streams: one replica at a time.
    for (const g of before.filter((x) => x.type === "stream"))
      for (const node of g.missing)
        await repair(
          ctx,
          node,
          [...RABBITMQ_STREAMS, "add_replica", "--vhost", g.vhost, g.queue, node],
          `replica of stream ${g.queue}`,
        );
    const after = await gaps(ctx);
    if (after.length > 0)
      throw new HastackError("E_RABBITMQ_JOIN", `Cannot restore the queues' replicas: ${describe(after)}`, {
        hint: "see `rabbitmq-queues quorum_status` (or `rabbitmq-streams stream_status`) of the named queue on a controller",
      });
  },
};
