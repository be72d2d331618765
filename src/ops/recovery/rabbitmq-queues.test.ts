import { describe, expect, it } from "vitest";
import { type QuorumQueue, queueActionArgv, queueRepair } from "./rabbitmq-queues.ts";

const q = (name: string, members: string[]): QuorumQueue => ({ vhost: "openstack", name, members });
const all = ["ctl1", "ctl2", "ctl3"];

describe("quorum queue replicas", () => {
  it("finds nothing to do when every queue has its members, even with one of them down", () => {
    const r = queueRepair([q("a", all), q("b", all)], {
      replicas: 3,
      clusterSize: 3,
      running: ["ctl1", "ctl2"],
      forgotten: [],
    });

    expect(r).toEqual({ shortfalls: [], actions: [] });
  });

  it("grows a replaced node onto every queue that lost its member, in one command", () => {
    const r = queueRepair([q("a", ["ctl1", "ctl2"]), q("b", ["ctl2", "ctl1"])], {
      replicas: 3,
      clusterSize: 3,
      running: all,
      forgotten: [],
    });

    expect(r.shortfalls.map((s) => [s.name, s.add, s.unfilled])).toEqual([
      ["a", ["ctl3"], 0],
      ["b", ["ctl3"], 0],
    ]);
    expect(r.actions).toEqual([{ kind: "grow", host: "ctl3", queues: 2 }]);
    expect(queueActionArgv(r.actions[0] ?? { kind: "grow", host: "", queues: 0 })).toEqual([
      "rabbitmq-queues",
      "grow",
      "rabbit@ctl3",
      "all",
    ]);
  });

  it("streams: a replica each, as the rabbitmq user; grow counts quorum queues only (it does not touch streams)", () => {
    // Two controllers replaced in turn left every fanout stream on ctl3 alone (lab, 2026-12-05).
    const s = (name: string, members: string[]): QuorumQueue => ({ ...q(name, members), type: "stream" });
    const r = queueRepair([q("a", ["ctl3"]), q("b", ["ctl3"]), s("conductor_fanout", ["ctl3"])], {
      replicas: 3,
      clusterSize: 3,
      running: all,
      forgotten: [],
    });

    expect(r.shortfalls.map((x) => [x.name, x.type, x.add])).toEqual([
      ["a", "quorum", ["ctl1", "ctl2"]],
      ["b", "quorum", ["ctl1", "ctl2"]],
      ["conductor_fanout", "stream", ["ctl1", "ctl2"]],
    ]);
    expect(r.actions).toEqual([
      { kind: "grow", host: "ctl1", queues: 2 },
      { kind: "add-replica", host: "ctl1", vhost: "openstack", queue: "conductor_fanout" },
      { kind: "grow", host: "ctl2", queues: 2 },
      { kind: "add-replica", host: "ctl2", vhost: "openstack", queue: "conductor_fanout" },
    ]);
    expect(queueActionArgv(r.actions[1] ?? { kind: "grow", host: "", queues: 0 })).toEqual([
      "runuser",
      "-u",
      "rabbitmq",
      "--",
      "env",
      "-C",
      "/var/lib/rabbitmq",
      "HOME=/var/lib/rabbitmq",
      "/usr/lib/rabbitmq/bin/rabbitmq-streams",
      "add_replica",
      "--vhost",
      "openstack",
      "conductor_fanout",
      "rabbit@ctl1",
    ]);
  });

  it("adds members one by one when growing would touch a queue that is not short", () => {
    const five = ["ctl1", "ctl2", "ctl3", "ctl4", "ctl5"];

    const r = queueRepair([q("short", ["ctl1", "ctl2"]), q("full", ["ctl1", "ctl2", "ctl4"])], {
      replicas: 3,
      clusterSize: 5,
      running: five,
      forgotten: [],
    });

    expect(r.actions).toEqual([{ kind: "add-member", host: "ctl3", vhost: "openstack", queue: "short" }]);
    expect(queueActionArgv(r.actions[0] ?? { kind: "grow", host: "", queues: 0 })).toEqual([
      "rabbitmq-queues",
      "add_member",
      "--vhost",
      "openstack",
      "short",
      "rabbit@ctl3",
    ]);
  });

  it("does not count members on a forgotten node, and says what stays short until more nodes run", () => {
    const opts = { replicas: 3, running: ["ctl1", "ctl2"], forgotten: ["ctl3"] };

    const twoLeft = queueRepair([q("a", all)], { ...opts, clusterSize: 2 });
    const replacementDown = queueRepair([q("a", all)], { ...opts, clusterSize: 3 });

    expect(twoLeft).toEqual({ shortfalls: [], actions: [] });
    expect(replacementDown.shortfalls).toEqual([
      { vhost: "openstack", name: "a", type: "quorum", members: ["ctl1", "ctl2"], add: [], unfilled: 1 },
    ]);
    expect(replacementDown.actions).toEqual([]);
  });
});
