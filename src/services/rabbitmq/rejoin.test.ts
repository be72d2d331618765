import { describe, expect, it } from "vitest";
import { strayJoins } from "./rejoin.ts";
import { queueGaps } from "./replicas.ts";

const all = ["rabbit@ctl1", "rabbit@ctl2", "rabbit@ctl3"];

describe("strayJoins: nodes running apart from the main cluster", () => {
  it("joins a reinstalled node to the main cluster, forgetting the old node of its name first", () => {
    const views = [
      { host: "ctl1", running: ["rabbit@ctl1", "rabbit@ctl2"], members: all },
      { host: "ctl2", running: ["rabbit@ctl1", "rabbit@ctl2"], members: all },
      { host: "ctl3", running: ["rabbit@ctl3"], members: ["rabbit@ctl3"] },
    ];
    expect(strayJoins(views)).toEqual([{ host: "ctl3", seed: "ctl1", forget: true }]);
  });

  it("takes the largest cluster as the main one even when the bootstrap node is the stray", () => {
    const views = [
      { host: "ctl1", running: ["rabbit@ctl1"], members: ["rabbit@ctl1"] },
      { host: "ctl2", running: ["rabbit@ctl2", "rabbit@ctl3"], members: all },
      { host: "ctl3", running: ["rabbit@ctl2", "rabbit@ctl3"], members: all },
    ];
    expect(strayJoins(views)).toEqual([{ host: "ctl1", seed: "ctl2", forget: true }]);
  });

  it("joins without forgetting a node that missed the others' first start (never a member)", () => {
    const views = [
      { host: "ctl1", running: ["rabbit@ctl1", "rabbit@ctl2"], members: ["rabbit@ctl1", "rabbit@ctl2"] },
      { host: "ctl2", running: ["rabbit@ctl1", "rabbit@ctl2"], members: ["rabbit@ctl1", "rabbit@ctl2"] },
      { host: "ctl3", running: ["rabbit@ctl3"], members: ["rabbit@ctl3"] },
    ];
    expect(strayJoins(views)).toEqual([{ host: "ctl3", seed: "ctl1", forget: false }]);
  });

  it("leaves alone a node that does not answer, and a whole cluster", () => {
    const whole = all.map((_, i) => ({ host: `ctl${i + 1}`, running: all, members: all }));
    expect(strayJoins(whole)).toEqual([]);
    const silent = [
      { host: "ctl1", running: ["rabbit@ctl1", "rabbit@ctl2"], members: all },
      { host: "ctl2", running: ["rabbit@ctl1", "rabbit@ctl2"], members: all },
      { host: "ctl3", running: [], members: [] },
    ];
    expect(strayJoins(silent)).toEqual([]);
  });

  it("never joins one multi-node cluster to another (a split is an operator's call)", () => {
    const split = [
      { host: "ctl1", running: ["rabbit@ctl1", "rabbit@ctl2"], members: all },
      { host: "ctl2", running: ["rabbit@ctl1", "rabbit@ctl2"], members: all },
      { host: "ctl3", running: ["rabbit@ctl3", "rabbit@ctl4"], members: ["rabbit@ctl3", "rabbit@ctl4"] },
    ];
    expect(strayJoins(split)).toEqual([]);
  });
});

describe("queueGaps: quorum queues and streams short of a replica on a controller", () => {
  it("lists quorum queues and streams lacking a node, ignores classic queues", () => {
    const queues = [
      { vhost: "/openstack", name: "a", type: "quorum", members: all },
      { vhost: "/openstack", name: "b", type: "quorum", members: ["rabbit@ctl1", "rabbit@ctl2"] },
      { vhost: "/openstack", name: "c", type: "classic" },
      { vhost: "/openstack", name: "d", type: "quorum" },
      // What two controllers replaced in turn left of oslo.messaging's fanout streams (the lab).
      { vhost: "/openstack", name: "conductor_fanout", type: "stream", members: ["rabbit@ctl3"] },
    ];
    expect(queueGaps(queues, all)).toEqual([
      { vhost: "/openstack", queue: "b", type: "quorum", missing: ["rabbit@ctl3"] },
      { vhost: "/openstack", queue: "d", type: "quorum", missing: all },
      {
        vhost: "/openstack",
        queue: "conductor_fanout",
        type: "stream",
        missing: ["rabbit@ctl1", "rabbit@ctl2"],
      },
    ]);
  });
});
