import { afterAll, describe, expect, it } from "vitest";
import { notSentences } from "./fixtures/galera-facts.ts";
import { type RabbitFacts, type RabbitNode, type RabbitPlan, rabbitmqPlan } from "./rabbitmq-plan.ts";
import type { QuorumQueue } from "./rabbitmq-queues.ts";
import type { PowerFacts } from "./types.ts";

const all = ["ctl1", "ctl2", "ctl3"];
const up = (host: string, members = all, running = all): RabbitNode => ({
  host,
  state: "running",
  members,
  running,
  partitions: 0,
});
/** A survivor of a power cut: its Erlang node runs, the app waits for the peers it last saw. */
const waiting = (host: string, sawRunning: string[] | "unreadable" = all): RabbitNode =>
  sawRunning === "unreadable"
    ? { host, state: "booting" }
    : { host, state: "booting", runningAtShutdown: sawRunning };
const gone = (host: string): RabbitNode => ({ host, state: "unreachable" });
const OFF: PowerFacts = { power: "off", fenced: false };
const queues: QuorumQueue[] = [
  { vhost: "openstack", name: "conductor", members: all },
  { vhost: "openstack", name: "scheduler", members: all },
];

const plans: RabbitPlan[] = [];
function plan(nodes: RabbitNode[], extra: Partial<RabbitFacts> = {}): RabbitPlan {
  const p = rabbitmqPlan({ nodes, power: {}, replicas: 3, ...extra });
  plans.push(p);
  return p;
}

describe("the cluster runs", () => {
  it("is healthy with every node up and every queue at 3 members", () => {
    const p = plan([up("ctl1"), up("ctl2"), up("ctl3")], { queues });

    expect(p).toEqual({
      kind: "healthy",
      actions: [],
      shortfalls: [],
      reasons: ["RabbitMQ runs on ctl1, ctl2 and ctl3."],
      nodes: all.map((host) => ({ host, state: "running, sees ctl1, ctl2 and ctl3 running" })),
    });
  });

  it("keeps a node that is only off as a member: nothing to forget, its queue members wait for it", () => {
    const running = ["ctl1", "ctl2"];

    const p = plan([up("ctl1", all, running), up("ctl2", all, running), gone("ctl3")], {
      power: { ctl3: OFF },
      queues,
    });

    expect(p.kind).toBe("healthy");
    expect(p.reasons).toContain(
      "ctl3 is off (powered off (BMC)): it stays a member and rejoins by itself when powered on.",
    );
  });

  it("starts a stopped node and restarts one stuck booting", () => {
    const p = plan([up("ctl1"), { host: "ctl2", state: "stopped" }, waiting("ctl3")], { queues });

    expect(p).toMatchObject({
      kind: "repair",
      actions: [
        { kind: "start", host: "ctl2" },
        { kind: "restart", host: "ctl3" },
      ],
    });
  });

  it("forgets a node gone for good once it is confirmed off, then restores the replicas on the replacement", () => {
    const members = ["ctl1", "ctl2", "ctl3", "ctl4"];
    const running = ["ctl1", "ctl2", "ctl4"];
    const lost: QuorumQueue[] = queues.map((q) => ({ ...q, members: ["ctl1", "ctl2", "ctl3"] }));

    const p = plan(
      [
        up("ctl1", members, running),
        up("ctl2", members, running),
        gone("ctl3"),
        up("ctl4", members, running),
      ],
      { power: { ctl3: { power: "unknown", fenced: true } }, gone: ["ctl3"], queues: lost },
    );

    expect(p.kind).toBe("repair");
    expect(p.actions).toEqual([
      { kind: "forget", host: "ctl3" },
      { kind: "grow", host: "ctl4", queues: 2 },
    ]);
    expect(p.shortfalls.map((s) => s.name)).toEqual(["conductor", "scheduler"]);
    expect(p.reasons).toContain("Quorum queue conductor (vhost openstack) has 2 of 3 members: add ctl4.");
    expect(p.reasons).toContain("ctl3 is gone for good: forgotten, with its queue members.");
  });

  it("restores replicas lost by a replacement with add_member when only one queue is short", () => {
    const p = plan([up("ctl1"), up("ctl2"), up("ctl3")], {
      queues: [{ vhost: "openstack", name: "reply_abc", members: ["ctl1", "ctl2"] }, ...queues],
    });

    expect(p.actions).toEqual([{ kind: "add-member", host: "ctl3", vhost: "openstack", queue: "reply_abc" }]);
  });
});

describe("nothing runs", () => {
  it("waits when every node is here and booting (all power-cut, all back)", () => {
    const p = plan([waiting("ctl1"), waiting("ctl2"), waiting("ctl3")]);

    expect(p).toMatchObject({ kind: "wait", actions: [] });
  });

  it("waits for a missing peer whose BMC says on", () => {
    const p = plan([waiting("ctl1"), waiting("ctl2"), gone("ctl3")], {
      power: { ctl3: { power: "on", fenced: false } },
    });

    expect(p.kind).toBe("wait");
    expect(p.reasons[1]).toMatch(/^ctl3 is unreachable but powered on \(BMC\): probably booting/);
  });

  it("force-boots a survivor of a simultaneous cut when the third is off (the issue's case), then restarts the other", () => {
    const p = plan([waiting("ctl1"), waiting("ctl2"), gone("ctl3")], { power: { ctl3: OFF } });

    expect(p.kind).toBe("force-boot");
    expect(p.actions).toEqual([
      { kind: "force-boot", host: "ctl1" },
      { kind: "restart", host: "ctl2" },
    ]);
    expect(p.reasons).toEqual([
      "No node runs RabbitMQ, and the missing peers are confirmed off: the survivors would wait for them forever.",
      "ctl1 and ctl2 stopped last of the survivors; ctl3 was still running then but, a minority alone, paused (pause_minority): at most the changes of its last seconds are lost, never a quorum queue's messages.",
      "Then ctl2 joins it.",
      "ctl3 is off (powered off (BMC)): it stays a member and rejoins by itself when powered on.",
      "Quorum queue replicas are checked once the cluster runs: run recover again then.",
    ]);
  });

  it("force-boots the node that stopped last, not the first in the inventory", () => {
    const p = plan(
      [waiting("ctl1", all), { host: "ctl2", state: "stopped", runningAtShutdown: ["ctl2"] }, gone("ctl3")],
      {
        power: { ctl3: OFF },
      },
    );

    expect(p.actions).toEqual([
      { kind: "force-boot", host: "ctl2" },
      { kind: "restart", host: "ctl1" },
    ]);
    expect(p.reasons[1]).toBe("ctl2 was the last to stop: it holds every definition.");
  });

  it("force-boots a single survivor even when the last to stop is not known: it is all that is left", () => {
    const p = plan([waiting("ctl1", "unreadable"), gone("ctl2"), gone("ctl3")], {
      power: { ctl2: OFF, ctl3: OFF },
    });

    expect(p.actions).toEqual([{ kind: "force-boot", host: "ctl1" }]);
    expect(p.reasons[1]).toBe(
      "ctl1 is the only survivor: it is forced although its shutdown view is unknown.",
    );
  });
});

describe("refusals", () => {
  it("refuses when a missing peer's power state is unknown", () => {
    const p = plan([waiting("ctl1"), waiting("ctl2"), gone("ctl3")], {
      power: { ctl3: { power: "unknown", fenced: false } },
    });

    expect(p).toMatchObject({ kind: "refuse", actions: [] });
    expect(p.reasons[0]).toMatch(/^ctl3 is unreachable and its power state is unknown/);
  });

  it("refuses to choose between two survivors when the last to stop is not known", () => {
    const p = plan([waiting("ctl1", "unreadable"), waiting("ctl2"), gone("ctl3")], { power: { ctl3: OFF } });

    expect(p.kind).toBe("refuse");
    expect(p.reasons).toEqual([
      "Which node stopped last is not known (no nodes_running_at_shutdown from ctl1): forcing the wrong one loses the definitions changed after it stopped. Find the last node to stop in the RabbitMQ logs and force it by hand.",
    ]);
  });

  it("refuses when the survivors' shutdown views contradict each other", () => {
    const p = plan([waiting("ctl1", ["ctl1", "ctl3"]), waiting("ctl2", ["ctl1", "ctl2"]), gone("ctl3")], {
      power: { ctl3: OFF },
    });

    expect(p.kind).toBe("refuse");
    expect(p.reasons[0]).toMatch(/^The survivors' shutdown views contradict each other/);
  });

  it("refuses when a majority may have run on after the survivors stopped", () => {
    const five = [
      waiting("ctl1", ["ctl1", "ctl2", "ctl3", "ctl4", "ctl5"]),
      waiting("ctl2", ["ctl1", "ctl2", "ctl3", "ctl4", "ctl5"]),
    ];

    const p = plan([...five, gone("ctl3"), gone("ctl4"), gone("ctl5")], {
      power: { ctl3: OFF, ctl4: OFF, ctl5: OFF },
    });

    expect(p.kind).toBe("refuse");
    expect(p.reasons[0]).toMatch(
      /^ctl3, ctl4 and ctl5 were still running when the survivors stopped and, as a majority/,
    );
  });

  it("refuses a peer that is on while another is off: waiting will not help, forcing is unsafe", () => {
    const p = plan([waiting("ctl1"), gone("ctl2"), gone("ctl3")], {
      power: { ctl2: { power: "on", fenced: false }, ctl3: OFF },
    });

    expect(p.kind).toBe("refuse");
  });

  it.each`
    case                   | nodes                                     | power                                      | reason
    ${"it answers"}        | ${[up("ctl1"), up("ctl2"), up("ctl3")]}   | ${{}}                                      | ${"ctl3 is to be forgotten but it answers"}
    ${"not confirmed off"} | ${[up("ctl1"), up("ctl2"), gone("ctl3")]} | ${{ ctl3: { power: "on", fenced: true } }} | ${"ctl3 is to be forgotten but it is not confirmed off (powered on (BMC), fenced by Pacemaker)"}
  `("refuses to forget a node when $case", ({ nodes, power, reason }) => {
    const p = plan(nodes, { power, gone: ["ctl3"] });

    expect(p.kind).toBe("refuse");
    expect(p.reasons[0]).toMatch(new RegExp(`^${reason.replace(/[()]/g, "\\$&")}`));
  });

  it("refuses two clusters, a partition, and no answer at all", () => {
    const alone = up("ctl3", ["ctl3"], ["ctl3"]);
    const partitioned: RabbitNode = { ...up("ctl1"), partitions: 1 } as RabbitNode;

    expect(plan([up("ctl1"), up("ctl2"), alone]).reasons[0]).toMatch(
      /^The running nodes disagree on the cluster's members/,
    );
    expect(plan([partitioned, up("ctl2"), up("ctl3")]).reasons[0]).toMatch(
      /^ctl1 reports a network partition/,
    );
    expect(plan([gone("ctl1"), gone("ctl2"), gone("ctl3")]).reasons).toEqual([
      "No controller answers: there is no node to recover from.",
    ]);
  });
});

afterAll(() => {
  expect(plans.flatMap((p) => notSentences(p.reasons))).toEqual([]);
});
