import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { mgmtNodes, mgmtQueues } from "../../hostkit/rabbitmq-http.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import { adminCredentials } from "./admin.ts";
import { rabbitmqSettings } from "./settings.ts";

/**
 * Per node: cluster view (running nodes, partitions, alarms, quorum queues without a leader) and
 * a real AMQP publish + consume as the OpenStack user, on that node. The AMQP client is the
 * python3-amqp library OpenStack itself installs on controllers (oslo.messaging's transport).
 */
export function rabbitmqHealth(topology: Topology): ProbeSpec[] {
  return [
    {
      id: "cluster",
      title: "RabbitMQ cluster",
      on: "each",
      weight: "redundant",
      // The management API on the node's loopback (hostkit/rabbitmq-http.ts), not rabbitmqctl:
      // its Erlang VM took 24-31 s to answer on the lab's controllers at load 36.
      timeoutMs: 30_000,
      run: (ctx) => probeCluster(ctx, topology),
    },
    {
      id: "amqp",
      title: "AMQP publish+consume",
      on: "each",
      weight: "redundant",
      run: (ctx) => probeAmqp(ctx, topology),
    },
  ];
}

async function probeCluster(ctx: ProbeContext, topology: Topology): Promise<ProbeResult> {
  const t = ctx.transport(ctx.host?.name ?? "");
  const opts = { signal: ctx.signal };
  const admin = adminCredentials(topology, ctx.secret);
  const nodes = await mgmtNodes(t, admin, opts).catch((e: Error) => e);
  if (nodes instanceof Error)
    return { state: "down", summary: `node does not answer: ${lastLine(nodes.message)}` };
  const running = nodes.filter((n) => n.running).map((n) => n.name);
  const partitions = nodes.reduce((sum, n) => sum + n.partitions.length, 0);
  const alarms = nodes.flatMap((n) => [
    ...(n.mem_alarm ? [`memory on ${n.name}`] : []),
    ...(n.disk_free_alarm ? [`disk on ${n.name}`] : []),
  ]);
  const queues = await mgmtQueues(t, rabbitmqSettings(topology).vhost, admin, opts).catch((e: Error) => e);
  const leaderless = queues instanceof Error ? [] : queues.filter((q) => q.type === "quorum" && !q.leader);
  const want = topology.roles.controller.length;
  const parts = [`${running.length}/${want} nodes running`];
  if (partitions > 0) parts.push(`PARTITIONED (${partitions})`);
  if (alarms.length > 0) parts.push(`alarms: ${alarms.join(", ")}`);
  if (leaderless.length > 0) parts.push(`${leaderless.length} quorum queue(s) without a leader`);
  if (queues instanceof Error) parts.push(`cannot list queues: ${lastLine(queues.message)}`);
  const state =
    partitions > 0 || leaderless.length > 0
      ? "down"
      : running.length < want || alarms.length > 0
        ? "degraded"
        : "ok";
  return {
    state,
    summary: parts.join(", "),
    details: { running, partitions, alarms, leaderless: leaderless.map((q) => q.name) },
  };
}

const amqpScript = `
import sys, time, amqp
host, user, vhost = sys.argv[1], sys.argv[2], sys.argv[3]
password = sys.stdin.read().strip()
conn = amqp.Connection(host=host, userid=user, password=password, virtual_host=vhost, connect_timeout=5)
conn.connect()
ch = conn.channel()
q, _, _ = ch.queue_declare(queue="", exclusive=True, auto_delete=True)
body = "hastack-probe-%f" % time.time()
ch.basic_publish(amqp.Message(body), exchange="", routing_key=q)
for _ in range(50):
    msg = ch.basic_get(queue=q, no_ack=True)
    if msg is not None:
        break
    time.sleep(0.05)
conn.close()
print("ok" if msg is not None and msg.body == body else "lost")
`;

async function probeAmqp(ctx: ProbeContext, topology: Topology): Promise<ProbeResult> {
  const host = ctx.host;
  if (!host) return { state: "unknown", summary: "no host" };
  const { user, vhost } = rabbitmqSettings(topology);
  const started = performance.now();
  const result = await ctx.exec(host.name, ["python3", "-c", amqpScript, `${host.ip}:5672`, user, vhost], {
    stdin: ctx.secret("rabbitmq_openstack"),
  });
  const ms = (performance.now() - started).toFixed(0);
  if (result.code === 0 && result.stdout.trim() === "ok")
    return { state: "ok", summary: `published and consumed in ${ms} ms` };
  return {
    state: "down",
    summary: `publish/consume failed: ${lastLine(result.stderr) || result.stdout.trim()}`,
  };
}
