/**
 * @module
 * Every quorum queue with a replica on every controller, as the cluster made them. A forgotten
 * node (a reinstalled controller, rejoin.ts; `hastack recover` forgetting a dead one) takes its
 * replicas with it, and nothing gives them back by itself: peers' operators repair them by hand
 * (stackhpc-kayobe-config PR #2532). Until then a queue of 3 has 2 replicas, and one more lost
 * controller takes it down.
 */
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
  missing: string[];
}

/** Quorum queues lacking a replica on any of `nodes`; pure, for tests. */
export function queueGaps(
  queues: readonly { vhost: string; name: string; type: string; members?: string[] }[],
  nodes: readonly string[],
): QueueGap[] {
  return queues
    .filter((q) => q.type === "quorum")
    .map((q) => ({ vhost: q.vhost, queue: q.name, missing: nodes.filter((n) => !q.members?.includes(n)) }))
    .filter((g) => g.missing.length > 0);
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
  return `${list.length} quorum queue(s) without a replica on ${nodes.join(", ")} (first: ${list[0]?.vhost} ${list[0]?.queue})`;
}

export const replicas: StepSpec = {
  id: "replicas",
  title: "Every quorum queue has a replica on every controller (rabbitmq-queues grow where one lacks)",
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
    for (const node of [...new Set(before.flatMap((g) => g.missing))]) {
      const host = node.replace(/^rabbit@/, "");
      ctx.log.info(`adding ${node} to every quorum queue that lacks it`);
      const r = await ctx.peer(host).exec(["rabbitmq-queues", "grow", node, "all"], {
        timeoutMs: 540_000,
        signal: ctx.signal,
      });
      if (r.code !== 0)
        throw new HastackError(
          "E_RABBITMQ_JOIN",
          `Cannot add ${node}'s quorum queue replicas on ${host}: exit code ${r.code}: ${lastLine(r.stderr || r.stdout)}`,
        );
    }
    const after = await gaps(ctx);
    if (after.length > 0)
      throw new HastackError(
        "E_RABBITMQ_JOIN",
        `Cannot restore the quorum queue replicas: ${describe(after)}`,
        {
          hint: "see `rabbitmq-queues quorum_status` of the named queue on a controller",
        },
      );
  },
};
