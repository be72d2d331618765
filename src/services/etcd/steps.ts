import { controllers } from "../hosts.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { ETCD_CLIENT_PORT } from "./settings.ts";

/**
 * Every member at once (an `each` step runs on all controllers in parallel): with
 * initial-cluster-state new, a member waits for a quorum of its peers, and systemd's start
 * (Type=notify) returns only once it has one. Afterwards the data directory exists and the
 * setting is ignored, so restarts and re-deploys are plain starts.
 */
const start: StepSpec = {
  id: "start",
  title: "Enable and start etcd on every controller at once",
  on: "each",
  after: ["files"],
  timeoutMs: 300_000,
  async check(ctx) {
    return (
      (await ctx.test(["systemctl", "is-enabled", "--quiet", "etcd"])) &&
      (await ctx.test(["systemctl", "is-active", "--quiet", "etcd"]))
    );
  },
  async apply(ctx) {
    await ctx.run(["systemctl", "enable", "etcd"]);
    await ctx.run(["systemctl", "start", "etcd"], { timeoutMs: 240_000 });
  },
};

function endpoints(ctx: StepContext): string {
  return controllers(ctx.topology)
    .map((h) => `http://${h.ip}:${ETCD_CLIENT_PORT}`)
    .join(",");
}

async function healthy(ctx: StepContext): Promise<true | string> {
  const want = controllers(ctx.topology).map((h) => h.name);
  const members = await ctx.transport.exec(
    ["etcdctl", `--endpoints=${endpoints(ctx)}`, "member", "list", "-w", "json"],
    { timeoutMs: 15_000 },
  );
  if (members.code !== 0) return `member list: ${members.stderr.trim()}`;
  const names = ((JSON.parse(members.stdout) as { members?: { name?: string }[] }).members ?? []).map(
    (m) => m.name ?? "",
  );
  const missing = want.filter((n) => !names.includes(n));
  if (missing.length > 0) return `not members: ${missing.join(", ")}`;
  const health = await ctx.transport.exec(
    ["etcdctl", `--endpoints=${endpoints(ctx)}`, "endpoint", "health"],
    {
      timeoutMs: 15_000,
    },
  );
  return health.code === 0 ? true : `unhealthy: ${(health.stderr || health.stdout).trim()}`;
}

const health: StepSpec = {
  id: "health",
  title: "Every controller a member; etcdctl endpoint health on every member",
  on: "bootstrap",
  after: ["start"],
  async check(ctx) {
    return (await healthy(ctx)) === true;
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
