import { describe, expect, it } from "vitest";
import { HastackError } from "../../util/errors.ts";
import { memoryJournal } from "./act-journal.ts";
import { actRabbitmq } from "./act-rabbitmq.ts";
import type { ActContext } from "./act-step.ts";
import { type Answer, fakeHost, hosts } from "./fixtures/fake-host.ts";
import { type RabbitFacts, rabbitmqPlan } from "./rabbitmq-plan.ts";

/**
 * The RabbitMQ actor on composed facts through fake Transports (a real broker is a boundary unit
 * tests cannot reach): the exact commands, on which host, in which order.
 */
const OK: Answer = {};
const UP = { "systemctl start": OK, "systemctl stop": OK, "systemctl restart": OK, check_running: OK };

function context(transport: ActContext["transport"]) {
  const journal = memoryJournal();
  let now = 0;
  const ctx: ActContext = {
    transport,
    journal,
    timing: {
      bootstrapMs: 5_000,
      joinMs: 5_000,
      pollMs: 1_000,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    },
  };
  return { ctx, journal };
}

function started(journal: ReturnType<typeof memoryJournal>): string[] {
  return journal.entries.flatMap((e) =>
    e.type === "action" && e.status === "started" ? [`${e.host}: ${e.command}`] : [],
  );
}

describe("actRabbitmq", () => {
  it("force-boots the node that stopped last (stopped: no stop first), then starts the other", async () => {
    const facts: RabbitFacts = {
      nodes: [
        { host: "ctl1", state: "stopped", runningAtShutdown: ["ctl1", "ctl2", "ctl3"] },
        { host: "ctl2", state: "stopped", runningAtShutdown: ["ctl2", "ctl3"] },
        { host: "ctl3", state: "unreachable" },
      ],
      power: { ctl3: { power: "off", fenced: true } },
      replicas: 3,
    };
    const plan = rabbitmqPlan(facts);
    expect(plan.kind).toBe("force-boot");
    const ctl1 = fakeHost("ctl1", { answers: UP });
    const ctl2 = fakeHost("ctl2", { answers: { ...UP, force_boot: OK } });
    const { ctx, journal } = context(hosts(ctl1, ctl2));
    await actRabbitmq(plan, facts, ctx);
    expect(started(journal)).toEqual([
      "ctl2: rabbitmqctl force_boot",
      "ctl2: systemctl start rabbitmq-server",
      "ctl1: systemctl start rabbitmq-server",
    ]);
  });

  it("every peer here, none running: all started at once (--no-block), then each waited for", async () => {
    const facts: RabbitFacts = {
      nodes: [
        { host: "ctl1", state: "stopped", runningAtShutdown: ["ctl1", "ctl2", "ctl3"] },
        { host: "ctl2", state: "stopped", runningAtShutdown: ["ctl1", "ctl2", "ctl3"] },
        { host: "ctl3", state: "booting", runningAtShutdown: ["ctl1", "ctl2", "ctl3"] },
      ],
      power: {},
      replicas: 3,
    };
    const plan = rabbitmqPlan(facts);
    expect(plan.actions).toEqual([
      { kind: "start", host: "ctl1" },
      { kind: "start", host: "ctl2" },
    ]);
    const ctl1 = fakeHost("ctl1", { answers: UP });
    const ctl2 = fakeHost("ctl2", { answers: UP });
    const { ctx } = context(hosts(ctl1, ctl2, fakeHost("ctl3")));
    const order: string[] = [];
    const logged = (h: ReturnType<typeof fakeHost>) => ({
      ...h,
      exec: async (argv: string[] | string, opts?: object) => {
        order.push(`${h.name}: ${typeof argv === "string" ? argv : argv.join(" ")}`);
        return h.exec(argv, opts);
      },
    });
    ctx.transport = hosts(logged(ctl1), logged(ctl2));
    await actRabbitmq(plan, facts, ctx);
    expect(order).toEqual([
      "ctl1: systemctl start --no-block rabbitmq-server",
      "ctl2: systemctl start --no-block rabbitmq-server",
      "ctl1: rabbitmq-diagnostics -q check_running",
      "ctl2: rabbitmq-diagnostics -q check_running",
    ]);
  });

  it("forgets only the node declared gone, on a running node, then adds the queue members back", async () => {
    const facts: RabbitFacts = {
      nodes: [
        {
          host: "ctl1",
          state: "running",
          members: ["ctl1", "ctl2", "ctl3"],
          running: ["ctl1", "ctl2"],
          partitions: 0,
        },
        {
          host: "ctl2",
          state: "running",
          members: ["ctl1", "ctl2", "ctl3"],
          running: ["ctl1", "ctl2"],
          partitions: 0,
        },
        { host: "ctl3", state: "unreachable" },
      ],
      power: { ctl3: { power: "off", fenced: false } },
      gone: ["ctl3"],
      queues: [
        { vhost: "/openstack", name: "q1", members: ["ctl1", "ctl3"] },
        { vhost: "/openstack", name: "q2", members: ["ctl1", "ctl2", "ctl3"] },
      ],
      replicas: 3,
    };
    const plan = rabbitmqPlan(facts);
    expect(plan.kind).toBe("repair");
    const ctl1 = fakeHost("ctl1", { answers: { forget_cluster_node: OK, add_member: OK } });
    const { ctx, journal } = context(hosts(ctl1, fakeHost("ctl2")));
    await actRabbitmq(plan, facts, ctx);
    expect(started(journal)).toEqual([
      "ctl1: rabbitmqctl forget_cluster_node rabbit@ctl3",
      "ctl1: rabbitmq-queues add_member --vhost /openstack q1 rabbit@ctl2",
    ]);
  });

  it("force_boot refused by the node: stops there with host, step and stderr", async () => {
    const facts: RabbitFacts = {
      nodes: [
        { host: "ctl1", state: "booting", runningAtShutdown: ["ctl1"] },
        { host: "ctl2", state: "stopped", runningAtShutdown: ["ctl1", "ctl2"] },
        { host: "ctl3", state: "unreachable" },
      ],
      power: { ctl3: { power: "off", fenced: false } },
      replicas: 3,
    };
    const ctl1 = fakeHost("ctl1", {
      answers: {
        "systemctl stop": OK,
        force_boot: { code: 69, stderr: "Error: unable to perform an operation on node 'rabbit@ctl1'" },
      },
    });
    const ctl2 = fakeHost("ctl2");
    const { ctx } = context(hosts(ctl1, ctl2));
    const error = (await actRabbitmq(rabbitmqPlan(facts), facts, ctx).catch(
      (e: unknown) => e,
    )) as HastackError;
    expect(error).toBeInstanceOf(HastackError);
    expect(error.message).toBe(
      "Cannot force_boot rabbitmq on ctl1: exit code 69: Error: unable to perform an operation on node 'rabbit@ctl1'",
    );
    expect(ctl1.asked).toEqual(["systemctl stop rabbitmq-server", "rabbitmqctl force_boot"]);
    expect(ctl2.asked).toEqual([]);
  });
});

describe("actRabbitmq after a power cut with one controller lost (the lab's case, 2026-12-03)", () => {
  const facts: RabbitFacts = {
    nodes: [
      { host: "ctl1", state: "booting", runningAtShutdown: ["ctl1", "ctl2"] },
      { host: "ctl2", state: "booting", runningAtShutdown: ["ctl1", "ctl2"] },
      { host: "ctl3", state: "unreachable" },
    ],
    power: { ctl3: { power: "off", fenced: false } },
    replicas: 3,
  };

  it("leaves the other survivor alone once it joined by itself: a restart would pause the force-booted node", async () => {
    const plan = rabbitmqPlan(facts);
    expect(plan.actions.map((a) => `${a.kind} ${a.host}`)).toEqual(["force-boot ctl1", "restart ctl2"]);
    const ctl1 = fakeHost("ctl1", { answers: { ...UP, force_boot: OK } });
    const ctl2 = fakeHost("ctl2", { answers: UP });
    const { ctx, journal } = context(hosts(ctl1, ctl2));
    await actRabbitmq(plan, facts, ctx);
    expect(started(journal)).toEqual([
      "ctl1: systemctl stop rabbitmq-server",
      "ctl1: rabbitmqctl force_boot",
      "ctl1: systemctl start rabbitmq-server",
    ]);
    expect(journal.entries).toContainEqual(
      expect.objectContaining({
        type: "wait",
        host: "ctl2",
        step: "wait for rabbitmq to join by itself",
        status: "done",
      }),
    );
  });

  it("restarts it when it has not joined within the bound", async () => {
    const plan = rabbitmqPlan(facts);
    const ctl1 = fakeHost("ctl1", { answers: { ...UP, force_boot: OK } });
    let restarted = false;
    const base = fakeHost("ctl2", { answers: UP });
    const ctl2 = {
      ...base,
      exec: async (command: string[] | string, opts?: Parameters<typeof base.exec>[1]) => {
        const line = typeof command === "string" ? command : command.join(" ");
        if (line.includes("systemctl restart")) restarted = true;
        if (line.includes("check_running") && !restarted) {
          base.asked.push(line);
          return { code: 69, stdout: "", stderr: "Error: rabbit app not running", durationMs: 0 };
        }
        return base.exec(command, opts);
      },
    };
    const { ctx, journal } = context(hosts(ctl1, ctl2));
    await actRabbitmq(plan, facts, ctx);
    expect(started(journal).at(-1)).toBe("ctl2: systemctl restart rabbitmq-server");
    expect(journal.entries).toContainEqual(
      expect.objectContaining({
        host: "ctl2",
        step: "wait for rabbitmq to join by itself",
        status: "failed",
      }),
    );
  });
});
