import { beforeAll, describe, expect, it } from "vitest";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

/**
 * RabbitMQ 4.0 has no offline config checker: the node translates rabbitmq.conf (cuttlefish) at
 * start and stops on an unknown key or a bad value. So the test starts a real node with the real
 * 3-node files and reads the effective settings from it. With its peers unreachable, a 4.0 node
 * does not boot alone: peer discovery wants the configured cluster size and retries for ~10 min
 * (hence the deploy starts every node at once). The settings are live long before that.
 */
describe("rabbitmq.conf in a real RabbitMQ 4.0 node", () => {
  it("is accepted, and the node runs with pause_minority, quorum queues, the management address, and the management API on loopback", async () => {
    const topology = exampleTopology("lab");
    const secrets = generatedSecrets(topology);
    const host = "ctl1";
    const files = [
      "/etc/rabbitmq/rabbitmq.conf",
      "/etc/rabbitmq/rabbitmq-env.conf",
      "/etc/rabbitmq/enabled_plugins",
      "/var/lib/rabbitmq/.erlang.cookie",
      "/etc/hosts",
    ].map((path) => placed(renderedFile(topology, host, path), secrets));
    const keys = "cluster_partition_handling, default_queue_type, tcp_listeners, cluster_nodes";
    const result = await runInImage(
      `runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq rabbitmq-server > /tmp/rabbit.log 2>&1 &
       for i in $(seq 1 120); do grep -q 'Peer discovery: configured backend' /var/log/rabbitmq/*.log 2>/dev/null && break; sleep 0.5; done
       rabbitmqctl eval '[{K, application:get_env(rabbit, K)} || K <- [${keys}]] ++ [{K, application:get_env(kernel, K)} || K <- [net_ticktime, inet_dist_use_interface]] ++ [{management, application:get_env(rabbitmq_management, tcp_config)}, {collector_off, application:get_env(rabbitmq_management_agent, disable_metrics_collector)}].'
       echo "eval=$?"
       rabbitmq-diagnostics erlang_cookie_sources 2>/dev/null | grep -A2 'Cookie File'
       # Proof that a bad file is refused: an unknown value stops the node before peer discovery.
       echo 'cluster_partition_handling = pause_majority' >> /etc/rabbitmq/rabbitmq.conf
       timeout 60 runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq RABBITMQ_NODENAME=rabbit2@ctl1 RABBITMQ_DIST_PORT=25673 rabbitmq-server > /tmp/bad.log 2>&1
       echo "bad=$?"; grep -rh -m2 'pause_majority' /tmp/bad.log /var/log/rabbitmq/ | cut -c1-300`,
      { files, hostname: host, addresses: ["10.20.0.11"], timeoutMs: 120_000 },
    );
    expect(result.stdout).toContain("eval=0");
    expect(result.stdout).toMatch(/\{cluster_partition_handling,\s*\{ok,\s*pause_minority\}\}/);
    expect(result.stdout).toMatch(/\{default_queue_type,\s*\{ok,\s*rabbit_quorum_queue\}\}/);
    expect(result.stdout).toMatch(/\{tcp_listeners,\s*\{ok,\s*\[\{"10\.20\.0\.11",5672\}\]\}\}/);
    expect(result.stdout).toMatch(
      /\{cluster_nodes,\s*\{ok,\s*\{\[rabbit@ctl3,rabbit@ctl2,rabbit@ctl1\],disc\}\}\}/,
    );
    expect(result.stdout).toMatch(/\{net_ticktime,\s*\{ok,\s*15\}\}/);
    expect(result.stdout).toMatch(/\{inet_dist_use_interface,\s*\{ok,\s*\{10,20,0,11\}\}\}/);
    // The management API on loopback only (its keys are known only with the plugin enabled).
    expect(result.stdout).toMatch(/\{management,\s*\{ok,\s*\[\{ip,"127\.0\.0\.1"\},\{port,15672\}\]\}\}/);
    expect(result.stdout).toMatch(/\{collector_off,\s*\{ok,\s*true\}\}/);
    expect(result.stdout).toMatch(/bad=[1-9]/);
    expect(result.stdout).toContain('"pause_majority" is not a valid enum value');
  }, 150_000);
});
