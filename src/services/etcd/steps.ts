import { endpointHealth, memberList } from "../../hostkit/etcd.ts";
import { allRunning, systemctl } from "../../hostkit/systemd.ts";
import { controllers } from "../hosts.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { finishRejoin, prepareRejoin } from "./rejoin.ts";
import { ETCD_CLIENT_PORT } from "./settings.ts";

/**
 * Every member at once (an `each` step runs on all controllers in parallel): with
 * initial-cluster-state new, a member waits for a quorum of its peers, and systemd's start
 * (Type=notify) returns only once it has one. Afterwards the data directory exists and the
 * setting is ignored, so restarts and re-deploys are plain starts. A host without data while the
 * others run (a reinstalled controller) joins them as a new member instead (rejoin.ts).
 */
const start: StepSpec = {
  id: "start",
  title: "Enable and start etcd on every controller at once",
  on: "each",
  after: ["files"],
  timeoutMs: 300_000,
  async check(ctx) {
    return allRunning(ctx.transport, ["etcd"]);
  },
  async apply(ctx) {
    const joining = await prepareRejoin(ctx);
    await systemctl(ctx.transport, "enable", ["etcd"]);
    await systemctl(ctx.transport, "start", ["etcd"], { timeoutMs: 240_000, signal: ctx.signal });
    if (joining) await finishRejoin(ctx);
  },
};

function endpoints(ctx: StepContext): string[] {
  return controllers(ctx.topology).map((h) => `http://${h.ip}:${ETCD_CLIENT_PORT}`);
}

async function healthy(ctx: StepContext): Promise<true | string> {
  const want = controllers(ctx.topology).map((h) => h.name);
  const names = (await memberList(ctx.transport, endpoints(ctx))).map((m) => m.name);
  const missing = want.filter((n) => !names.includes(n));
  if (missing.length > 0) return `not members: ${missing.join(", ")}`;
  const health = await endpointHealth(ctx.transport, endpoints(ctx));
  return health === true ? true : `unhealthy: ${health}`;
}

const health: StepSpec = {
  id: "health",
  title: "Every controller a member; etcdctl endpoint health on every member",
  on: "bootstrap",
  after: ["start"],
  async check(ctx) {
    return (await healthy(ctx).catch((e: Error) => e.message)) === true;
  },
  async apply(ctx) {
    await waitUntil(ctx, "get a healthy etcd cluster", () => healthy(ctx), { timeoutMs: 60_000 });
  },
};

export function etcdSteps(): StepSpec[] {
  return [
    { id: "files", title: "Write /etc/default/etcd (restart where it runs)", on: "each" },
    start,
    health,
  ];
}
