import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HastackError } from "../../util/errors.ts";
import { collectQuorumQueues, collectRabbitNode } from "./collect-rabbitmq.ts";
import { fakeHost } from "./fixtures/fake-host.ts";

/**
 * The collector against a fake Transport (the boundary). cluster_status is the real RabbitMQ
 * 4.0.5 answer captured on the lab (src/hostkit/fixtures/LAB-CAPTURES.md). No RabbitMQ 4 was
 * started to capture the rest (a lab-image node costs minutes of both cores, which a failover
 * measurement had): nodes_running_at_shutdown and `list_queues ... members` are in the formats
 * RabbitMQ's sources write (rabbit_node_monitor: rabbit_file:write_term_file, `~w.~n`;
 * rabbit_quorum_queue:i(members) a list of node names), marked "documented" below.
 */
const clusterStatusJson = readFileSync(
  new URL("../../hostkit/fixtures/rabbitmq-cluster-status.json", import.meta.url),
  "utf8",
);
const AT_SHUTDOWN = "/var/lib/rabbitmq/mnesia/rabbit@ctl1/nodes_running_at_shutdown";
const NOT_RUNNING = "Error:\nrabbit is not running on node rabbit@ctl1.";

describe("collectRabbitNode", () => {
  it("a running node: members and running nodes as hosts, from the captured cluster_status", async () => {
    const ctl1 = fakeHost("ctl1", {
      units: { "rabbitmq-server": "active" },
      answers: { check_running: { code: 0 }, cluster_status: { stdout: clusterStatusJson } },
    });
    expect((await collectRabbitNode(ctl1)).node).toEqual({
      host: "ctl1",
      state: "running",
      members: ["ctl1"],
      running: ["ctl1"],
      partitions: 0,
    });
  });

  it("a node waiting for its peers at boot: booting, with the nodes that ran when it stopped", async () => {
    const ctl1 = fakeHost("ctl1", {
      units: { "rabbitmq-server": "activating" },
      // documented: rabbit_file:write_term_file's `~w.~n` of the node list.
      files: { [AT_SHUTDOWN]: "[rabbit@ctl1,rabbit@ctl2].\n" },
      answers: { check_running: { code: 69, stderr: NOT_RUNNING } },
    });
    const { node } = await collectRabbitNode(ctl1);
    expect(node).toEqual({ host: "ctl1", state: "booting", runningAtShutdown: ["ctl1", "ctl2"] });
    expect(ctl1.asked.some((a) => a.includes("cluster_status"))).toBe(false);
  });

  it("a stopped node: quoted atoms read too; no file means unknown, not empty", async () => {
    const quoted = fakeHost("ctl1", {
      units: { "rabbitmq-server": "failed" },
      // documented: ~w quotes an atom that needs it (a '-' in the host name).
      files: { [AT_SHUTDOWN]: "['rabbit@ctl1','rabbit@ctl-2'].\n" },
    });
    expect((await collectRabbitNode(quoted)).node).toEqual({
      host: "ctl1",
      state: "stopped",
      runningAtShutdown: ["ctl1", "ctl-2"],
    });
    const none = fakeHost("ctl1", { units: { "rabbitmq-server": "inactive" } });
    expect((await collectRabbitNode(none)).node).toEqual({ host: "ctl1", state: "stopped" });
  });

  it("a nodes_running_at_shutdown that is not an Erlang list is an error naming the host", async () => {
    const ctl1 = fakeHost("ctl1", { files: { [AT_SHUTDOWN]: "[rabbit@ctl1,rab" } });
    const error = await collectRabbitNode(ctl1).catch((e: unknown) => e);
    expect((error as HastackError).code).toBe("E_TOOL_OUTPUT");
    expect((error as HastackError).message).toMatch(
      /^Cannot read nodes_running_at_shutdown's answer on ctl1/,
    );
  });

  it("a check_running that times out reads as booting; an unreachable host is recorded, not thrown", async () => {
    const slow = fakeHost("ctl1", {
      units: { "rabbitmq-server": "active" },
      answers: {
        check_running: {
          error: new HastackError("E_COMMAND_TIMEOUT", "Command timed out after 15000 ms on ctl1"),
        },
      },
    });
    expect((await collectRabbitNode(slow)).node.state).toBe("booting");
    const gone = await collectRabbitNode(fakeHost("ctl3", { down: true }));
    expect(gone.node).toEqual({ host: "ctl3", state: "unreachable" });
    expect(gone.unreachable).toContain("EHOSTUNREACH");
  });
});

describe("collectQuorumQueues", () => {
  it("keeps quorum queues and streams with their members' hosts, on the openstack vhost", async () => {
    // documented: the captured list_queues answer (name, type) with the members column added as
    // rabbit_quorum_queue prints it; a classic queue's members are not read.
    const answer = `[
{"name":"classic1","type":"classic","members":""}
,{"name":"q1","type":"quorum","members":["rabbit@ctl1","rabbit@ctl2"]}
,{"name":"q2","type":"quorum","members":["rabbit@ctl1","rabbit@ctl2","rabbit@ctl3"]}
,{"name":"conductor_fanout","type":"stream","members":["rabbit@ctl3"]}
]`;
    const ctl1 = fakeHost("ctl1", { answers: { list_queues: { stdout: answer } } });
    expect(await collectQuorumQueues(ctl1, "/openstack")).toEqual([
      { vhost: "/openstack", name: "q1", type: "quorum", members: ["ctl1", "ctl2"] },
      { vhost: "/openstack", name: "q2", type: "quorum", members: ["ctl1", "ctl2", "ctl3"] },
      { vhost: "/openstack", name: "conductor_fanout", type: "stream", members: ["ctl3"] },
    ]);
    expect(ctl1.asked[0]).toBe("rabbitmqctl -q list_queues -p /openstack name type members --formatter json");
  });

  it("a quorum queue without a members list is an error, not a queue with none", async () => {
    const ctl1 = fakeHost("ctl1", {
      answers: { list_queues: { stdout: '[{"name":"q1","type":"quorum","members":""}]' } },
    });
    await expect(collectQuorumQueues(ctl1, "/openstack")).rejects.toThrow(
      /Cannot read rabbitmqctl list_queues's answer on ctl1/,
    );
  });
});
