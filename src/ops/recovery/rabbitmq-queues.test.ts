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
      { vhost: "openstack", name: "a", members: ["ctl1", "ctl2"], add: [], unfilled: 1 },
    ]);
    expect(replacementDown.actions).toEqual([]);
  });
});
