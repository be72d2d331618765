import { clusterStatus, listQueues, listVhosts } from "../../hostkit/rabbitmq.ts";
import {
  mgmtNodes,
  mgmtPermission,
  mgmtRequest,
  mgmtUser,
  mgmtVhost,
  passwordMatches,
} from "../../hostkit/rabbitmq-http.ts";
import { allRunning, systemctl } from "../../hostkit/systemd.ts";
import { HastackError } from "../../util/errors.ts";
import { controllers } from "../hosts.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { ADMIN_SECRET, adminCredentials } from "./admin.ts";
import { hasFullRights, rabbitUsers, vhostRights } from "./listings.ts";
import { joinStray, nodeName, strayJoins } from "./rejoin.ts";
import { replicas } from "./replicas.ts";
import { rabbitmqSettings } from "./settings.ts";

/**
 * All nodes start together: with classic_config on RabbitMQ 4.0 a node that starts alone waits
 * (about 10 minutes) for the peers it lists before it gives up, so a one-at-a-time start is the
 * slow path; started together they form one cluster (real-tools.test.ts measured it). Enabled at
 * boot: a rebooted node rejoins its cluster by itself, pause_minority keeps a lone one harmless.
 */
const start: StepSpec = {
  id: "start",
  title: "Enable and start RabbitMQ on every controller at once",
  on: "each",
  after: ["files"],
  timeoutMs: 900_000,
  async check(ctx) {
    return allRunning(ctx.transport, ["rabbitmq-server"]);
  },
  async apply(ctx) {
    await systemctl(ctx.transport, "enable", ["rabbitmq-server"]);
    await systemctl(ctx.transport, "start", ["rabbitmq-server"], { timeoutMs: 840_000, signal: ctx.signal });
  },
};

interface ClusterView {
  running: string[];
  /** Every node of the cluster, running or not. */
  members: string[];
  partitions: number;
}

/**
 * A node that does not answer shows as running nothing. Asked over the management API as
 * hastack's administrator (a curl), and with rabbitmqctl (an Erlang VM, 30 s measured on the
 * lab's busy ctl1 in a no-op deploy) only while that fails: before the users step has made the
 * administrator, on a first deploy, or on a reinstalled node.
 */
async function clusterView(ctx: StepContext, host = ctx.host.name): Promise<ClusterView> {
  const t = ctx.peer(host);
  const nodes = await mgmtNodes(t, adminCredentials(ctx.topology, ctx.secret), { signal: ctx.signal }).catch(
    () => undefined,
  );
  if (nodes)
    return {
      running: nodes.filter((n) => n.running).map((n) => n.name),
      members: nodes.map((n) => n.name),
      partitions: nodes.reduce((sum, n) => sum + n.partitions.length, 0),
    };
  return clusterStatus(t)
    .then((s) => ({
      running: s.running,
      members: [...new Set([...s.disk, ...s.running])],
      partitions: s.partitions,
    }))
    .catch(() => ({ running: [], members: [], partitions: 0 }));
}

async function oneCluster(ctx: StepContext): Promise<true | string> {
  const want = controllers(ctx.topology).map((h) => nodeName(h.name));
  const view = await clusterView(ctx);
  const missing = want.filter((n) => !view.running.includes(n));
  if (view.partitions > 0) return `${view.partitions} partition(s)`;
  return missing.length === 0 ? true : `not running in the cluster: ${missing.join(", ")}`;
}

const cluster: StepSpec = {
  id: "cluster",
  title: "Wait until cluster_status lists every node running, no partitions",
  on: "bootstrap",
  after: ["start"],
  timeoutMs: 600_000,
  async check(ctx) {
    return (await oneCluster(ctx)) === true;
  },
  async apply(ctx) {
    const settle = Date.now() + 60_000;
    await waitUntil(
      ctx,
      "form one RabbitMQ cluster",
      async () => {
        const ok = await oneCluster(ctx);
        if (ok === true || Date.now() < settle) return ok;
        const views = await Promise.all(
          controllers(ctx.topology).map(async (h) => ({ host: h.name, ...(await clusterView(ctx, h.name)) })),
        );
        for (const join of strayJoins(views)) await joinStray(ctx, join);
        return ok;
      },
      { timeoutMs: 300_000, intervalMs: 2000 },
    );
  },
};

/**
 * What the users step lacks, over the management API as hastack's administrator: four curls.
 * Undefined when the administrator cannot ask (not made yet, or its password or tag changed):
 * the rabbitmqctl questions then answer.
 */
async function missingOverHttp(ctx: StepContext): Promise<string[] | undefined> {
  const { vhost, user } = rabbitmqSettings(ctx.topology);
  const admin = adminCredentials(ctx.topology, ctx.secret);
  const opts = { signal: ctx.signal };
  const whoami = await mgmtRequest(
    ctx.transport,
    "GET",
    "/api/whoami",
    admin,
    "ask who hastack is",
    opts,
  ).catch(() => undefined);
  if (whoami?.status !== 200 || !/"administrator"/.test(whoami.body)) return undefined;
  const [v, openstack, guest, rights] = await Promise.all([
    mgmtVhost(ctx.transport, vhost, admin, opts),
    mgmtUser(ctx.transport, user, admin, opts),
    mgmtUser(ctx.transport, "guest", admin, opts),
    mgmtPermission(ctx.transport, vhost, user, admin, opts),
  ]);
  const missing: string[] = [];
  if (!v) missing.push(`vhost ${vhost}`);
  else if (v.defaultQueueType !== "quorum") missing.push(`quorum as ${vhost}'s default queue type`);
  if (guest) missing.push("guest deleted");
  if (!openstack) missing.push(`user ${user}`);
  else {
    if (!passwordMatches(openstack, ctx.secret("rabbitmq_openstack"))) missing.push(`${user}'s password`);
    if (v && !hasFullRights(rights)) missing.push(`${user}'s permissions on ${vhost}`);
  }
  return missing;
}

async function missingAccess(ctx: StepContext): Promise<string[]> {
  const overHttp = await missingOverHttp(ctx);
  if (overHttp) return overHttp;
  const { vhost, user, admin_user } = rabbitmqSettings(ctx.topology);
  // The questions at once: each rabbitmqctl starts an Erlang VM (~2 s on the lab), and in
  // turn they were the longest step of a no-op deploy (8.7 s). The users and the vhost's
  // permissions are the run's shared listings (listings.ts). Passwords on stdin, never in argv;
  // without -q: with it, rabbitmqctl never reads stdin and waits forever (RabbitMQ 4.0.5). A
  // vhost that cannot be listed (it does not exist yet) gives no rights. hastack's administrator
  // is asked through the management API it is for: a 200 from whoami proves user, password
  // and the management tag at once.
  const admin = adminCredentials(ctx.topology, ctx.secret);
  const [vhosts, users, auth, rights, whoami] = await Promise.all([
    listVhosts(ctx.transport),
    rabbitUsers(ctx),
    ctx.transport.exec(["rabbitmqctl", "authenticate_user", user], {
      stdin: `${ctx.secret("rabbitmq_openstack")}\n`,
      timeoutMs: 60_000,
    }),
    vhostRights(ctx, vhost).catch(() => undefined),
    mgmtRequest(ctx.transport, "GET", "/api/whoami", admin, "ask the management API who hastack is"),
  ]);
  const missing: string[] = [];
  const v = vhosts.find((x) => x.name === vhost);
  if (!v) missing.push(`vhost ${vhost}`);
  else if (v.default_queue_type !== "quorum") missing.push(`quorum as ${vhost}'s default queue type`);
  if (users.includes("guest")) missing.push("guest deleted");
  if (!users.includes(user)) missing.push(`user ${user}`);
  else {
    if (auth.code !== 0) missing.push(`${user}'s password`);
    if (v && !hasFullRights(rights?.get(user))) missing.push(`${user}'s permissions on ${vhost}`);
  }
  if (whoami.status !== 200 || !/"administrator"/.test(whoami.body))
    missing.push(
      users.includes(admin_user)
        ? `administrator ${admin_user}'s password and tag`
        : `administrator ${admin_user}`,
    );
  return missing;
}

/** Declares a queue without x-queue-type as the openstack user and reports the type it got. */
const queueTypeScript = `
import sys, amqp
host, user, vhost = sys.argv[1], sys.argv[2], sys.argv[3]
conn = amqp.Connection(host=host, userid=user, password=sys.stdin.read().strip(), virtual_host=vhost, connect_timeout=5)
conn.connect()
ch = conn.channel()
ch.queue_declare(queue="hastack-default-type-check", durable=True, auto_delete=False)
conn.close()
`;

const users: StepSpec = {
  id: "users",
  title:
    "Create the vhost (quorum queues by default), the openstack user and hastack's administrator; delete guest",
  on: "bootstrap",
  after: ["cluster"],
  async check(ctx) {
    const missing = await missingAccess(ctx);
    if (missing.length > 0 && ctx.dryRun) ctx.log.info(`would set up: ${missing.join(", ")}`);
    return missing.length === 0;
  },
  async apply(ctx) {
    const { vhost, user, admin_user } = rabbitmqSettings(ctx.topology);
    const password = { stdin: `${ctx.secret("rabbitmq_openstack")}\n`, timeoutMs: 60_000 };
    const missing = await missingAccess(ctx);
    const q = ["rabbitmqctl", "-q"];
    if (missing.includes(`vhost ${vhost}`))
      await ctx.run([...q, "add_vhost", vhost, "--default-queue-type", "quorum"]);
    else if (missing.some((m) => m.startsWith("quorum as")))
      await ctx.run([...q, "update_vhost_metadata", vhost, "--default-queue-type", "quorum"]);
    if (missing.includes(`user ${user}`)) await ctx.run(["rabbitmqctl", "add_user", user], password);
    else if (missing.includes(`${user}'s password`))
      await ctx.run(["rabbitmqctl", "change_password", user], password);
    await ctx.run([...q, "set_permissions", "-p", vhost, user, ".*", ".*", ".*"]);
    if (missing.includes("guest deleted")) await ctx.run([...q, "delete_user", "guest"]);
    const admin = { stdin: `${ctx.secret(ADMIN_SECRET)}\n`, timeoutMs: 60_000 };
    if (missing.includes(`administrator ${admin_user}`))
      await ctx.run(["rabbitmqctl", "add_user", admin_user], admin);
    else if (missing.some((m) => m.startsWith("administrator ")))
      await ctx.run(["rabbitmqctl", "change_password", admin_user], admin);
    if (missing.some((m) => m.startsWith("administrator ")))
      await ctx.run([...q, "set_user_tags", admin_user, "administrator"]);
    // Proof, not faith: a queue declared without a type must come out quorum.
    await ctx.run(["python3", "-c", queueTypeScript, `${ctx.host.ip}:5672`, user, vhost], password);
    const queues = await listQueues(ctx.transport, vhost);
    const probe = queues.find((x) => x.name === "hastack-default-type-check");
    await ctx.run([...q, "delete_queue", "-p", vhost, "hastack-default-type-check"]);
    if (probe?.type !== "quorum")
      throw new HastackError(
        "E_RABBITMQ_QUEUE_TYPE",
        `Cannot make quorum the default queue type on ${ctx.host.name}: a queue declared without a type in ${vhost} came out ${probe?.type ?? "missing"}`,
      );
  },
};

export function rabbitmqSteps(): StepSpec[] {
  return [
    { id: "files", title: "Write rabbitmq.conf, rabbitmq-env.conf and the Erlang cookie", on: "each" },
    start,
    cluster,
    users,
    replicas,
  ];
}
