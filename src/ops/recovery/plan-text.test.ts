import { describe, expect, it } from "vitest";
import type { GaleraNode } from "./galera-facts.ts";
import { galeraPlan } from "./galera-plan.ts";
import { planText } from "./plan-text.ts";
import { type RabbitNode, rabbitmqPlan } from "./rabbitmq-plan.ts";
import type { PowerFacts } from "./types.ts";

const HISTORY = "61b2fa6a-ee7b-11f1-981a-4205620656da";
const all = ["ctl1", "ctl2", "ctl3"];

function survivor(host: string, seqno: number): GaleraNode {
  return {
    host,
    state: "running",
    wsrep: {
      clusterStatus: "non-Primary",
      localState: "Initialized",
      position: { uuid: HISTORY, seqno },
      clusterSize: 1,
    },
  };
}

const rabbitSurvivors: RabbitNode[] = [
  { host: "ctl1", state: "booting", runningAtShutdown: all },
  { host: "ctl2", state: "booting", runningAtShutdown: all },
  { host: "ctl3", state: "unreachable" },
];

function text(power: Record<string, PowerFacts>, ctl2: GaleraNode = survivor("ctl2", 8)): string {
  const nodes = [survivor("ctl1", 9), ctl2, { host: "ctl3", state: "unreachable" } as const];
  return planText({
    galera: galeraPlan({ nodes, power }),
    rabbitmq: rabbitmqPlan({ nodes: rabbitSurvivors, power, replicas: 3 }),
    power,
  });
}

describe("the plan text", () => {
  it("shows the nodes, the steps and the reasons of the issue's case: all cut, two back, the third off", () => {
    expect(text({ ctl3: { power: "off", fenced: true } })).toBe(
      `Galera: bootstrap from ctl1 (seqno 9)
  ctl1  non-Primary, Initialized  seqno 9 (history 61b2fa6a, from wsrep status)
  ctl2  non-Primary, Initialized  seqno 8 (history 61b2fa6a, from wsrep status)
  ctl3  unreachable               powered off (BMC), fenced by Pacemaker
  Steps:
    1. bootstrap ctl1 in place: SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'
    2. ctl2 joins by itself (it runs, connected to the bootstrapped node)
  Why:
    - No Primary Component runs. ctl1 holds the highest committed seqno, 9 (history 61b2fa6a, from wsrep status).
    - ctl3 is confirmed off (powered off (BMC), fenced by Pacemaker): it cannot hold a newer Primary Component; it rejoins by itself when powered on.
    - Then ctl2 joins, most advanced first (IST when the donor's gcache still holds the gap, else SST).

RabbitMQ: force-boot ctl1
  ctl1  booting, waits for its peers
  ctl2  booting, waits for its peers
  ctl3  unreachable                   powered off (BMC), fenced by Pacemaker
  Steps:
    1. force-boot ctl1: stop RabbitMQ if it waits, rabbitmqctl force_boot, start it
    2. restart RabbitMQ on ctl2
  Why:
    - No node runs RabbitMQ, and the missing peers are confirmed off: the survivors would wait for them forever.
    - ctl1 and ctl2 stopped last of the survivors; ctl3 was still running then but, a minority alone, paused (pause_minority): at most the changes of its last seconds are lost, never a quorum queue's messages.
    - Then ctl2 joins it.
    - ctl3 is off (powered off (BMC), fenced by Pacemaker): it stays a member and rejoins by itself when powered on.
    - Quorum queue replicas are checked once the cluster runs: run recover again then.

Nothing has been changed yet.
`,
    );
  });

  it("says REFUSED first, lists no steps, and ends saying nothing changes (the BMC does not answer)", () => {
    const out = text({ ctl3: { power: "unknown", fenced: false } }, { host: "ctl2", state: "stopped" });

    expect(out.split("\n")[0]).toBe("Galera: REFUSED, nothing will be done");
    expect(out).not.toContain("Steps:");
    expect(out).toContain(
      "  ctl2  MariaDB stopped           seqno unknown: no grastate.dat and no --wsrep-recover result\n",
    );
    expect(out).toContain(
      "    - The seqno of ctl2 cannot be determined: no grastate.dat and no --wsrep-recover result.\n",
    );
    expect(out).toContain("RabbitMQ: REFUSED, nothing will be done\n");
    expect(out.endsWith("hastack recover refuses: it changes nothing while any part is ambiguous.\n")).toBe(
      true,
    );
  });

  it("writes the commands of a bootstrap from a stopped node and of a queue repair", () => {
    const nodes: GaleraNode[] = [
      {
        host: "ctl1",
        state: "stopped",
        grastate: { version: "2.1", uuid: HISTORY, seqno: 4, safeToBootstrap: true },
      },
      {
        host: "ctl2",
        state: "stopped",
        grastate: { version: "2.1", uuid: HISTORY, seqno: 3, safeToBootstrap: false },
      },
    ];
    const up = (host: string): RabbitNode => ({
      host,
      state: "running",
      members: all,
      running: all,
      partitions: 0,
    });
    const queues = [{ vhost: "openstack", name: "q", members: ["ctl1", "ctl2"] }];

    const out = planText({
      galera: galeraPlan({ nodes, power: {} }),
      rabbitmq: rabbitmqPlan({ nodes: all.map(up), power: {}, replicas: 3, queues }),
      power: {},
    });

    expect(out).toContain(
      "  ctl1  MariaDB stopped  seqno 4 (history 61b2fa6a, from grastate.dat), safe_to_bootstrap: 1\n",
    );
    expect(out).toContain(
      "    1. bootstrap ctl1: set safe_to_bootstrap: 1 in its grastate.dat, galera_new_cluster\n",
    );
    expect(out).toContain("    2. start MariaDB on ctl2: it joins by IST or SST\n");
    expect(out).toContain("RabbitMQ: repair\n");
    expect(out).toContain("    1. rabbitmq-queues add_member --vhost openstack q rabbit@ctl3\n");
  });
});
