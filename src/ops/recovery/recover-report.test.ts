import { describe, expect, it } from "vitest";
import type { RecoveryFacts } from "./collect.ts";
import { gone, grastate, synced, waiting } from "./fixtures/galera-facts.ts";
import type { RabbitNode } from "./rabbitmq-plan.ts";
import { RECOVER_EXIT, recoverReport, recoverText } from "./recover-report.ts";
import type { PowerFacts } from "./types.ts";

/** The verdict and exit code of `hastack recover --dry-run` on composed fact sets. */
const all = ["ctl1", "ctl2", "ctl3"];
const runningRabbit = (host: string): RabbitNode => ({
  host,
  state: "running",
  members: all,
  running: all,
  partitions: 0,
});

function facts(
  galera: RecoveryFacts["galera"]["nodes"],
  rabbit: RabbitNode[],
  power: Record<string, PowerFacts> = {},
) {
  const unreachable = Object.fromEntries(
    galera.filter((n) => n.state === "unreachable").map((n) => [n.host, `Cannot connect to ${n.host}`]),
  );
  return {
    galera: { nodes: galera, power },
    rabbitmq: {
      nodes: rabbit,
      power,
      replicas: 3,
      queues: [{ vhost: "/openstack", name: "q1", members: all }],
    },
    unreachable,
    notes: [],
    stack: [],
  } satisfies RecoveryFacts;
}

describe("recoverReport", () => {
  it("healthy: exit 0, no unreachable section", () => {
    const report = recoverReport(
      facts([synced("ctl1"), synced("ctl2"), synced("ctl3")], all.map(runningRabbit)),
    );
    expect(report.verdict).toBe("nothing-to-do");
    expect(report.exitCode).toBe(0);
    const text = recoverText(report);
    expect(text.startsWith("Galera: healthy, nothing to do")).toBe(true);
    expect(text.endsWith("Nothing to do: recover exits 0.\n")).toBe(true);
    // Nothing will be carried out, so nothing promises changes to come (the lab's after-report did).
    expect(text).not.toContain("Nothing has been changed yet");
    expect(recoverText(report, "after")).not.toContain("Nothing has been changed yet");
  });

  it("the missing controller powered on (booting): both wait, exit 0", () => {
    const on = { ctl3: { power: "on", fenced: false } } satisfies Record<string, PowerFacts>;
    const rabbit: RabbitNode[] = [
      { host: "ctl1", state: "booting", runningAtShutdown: all },
      { host: "ctl2", state: "booting", runningAtShutdown: all },
      { host: "ctl3", state: "unreachable" },
    ];
    const report = recoverReport(facts([waiting("ctl1", 9), waiting("ctl2", 9), gone("ctl3")], rabbit, on));
    expect([report.galera.kind, report.rabbitmq.kind]).toEqual(["wait", "wait"]);
    expect(report.exitCode).toBe(RECOVER_EXIT["nothing-to-do"]);
    expect(recoverText(report)).toContain("Unreachable:\n  ctl3: Cannot connect to ctl3\n");
  });

  it("a refusal of one half refuses the whole: exit 3 even when the other half needs a recovery", () => {
    const rabbit: RabbitNode[] = [
      { host: "ctl1", state: "stopped", runningAtShutdown: ["ctl1", "ctl2"] },
      { host: "ctl2", state: "stopped", runningAtShutdown: ["ctl1", "ctl2"] },
      { host: "ctl3", state: "unreachable" },
    ];
    const off = { ctl3: { power: "off", fenced: true } } satisfies Record<string, PowerFacts>;
    // Galera: stopped after a crash (seqno -1) without a --wsrep-recover result: not rankable.
    const crashed = (host: string) => ({ host, state: "stopped" as const, grastate: grastate(-1) });
    const report = recoverReport(facts([crashed("ctl1"), crashed("ctl2"), gone("ctl3")], rabbit, off));
    expect([report.galera.kind, report.rabbitmq.kind]).toEqual(["refuse", "force-boot"]);
    expect(report.verdict).toBe("refused");
    expect(report.exitCode).toBe(3);
    expect(recoverText(report)).toMatch(/Refused \(exit 3\)/);
  });

  it("a recovery on one half, the other healthy: exit 2", () => {
    const off = { ctl3: { power: "off", fenced: false } } satisfies Record<string, PowerFacts>;
    const rabbit = [
      runningRabbit("ctl1"),
      runningRabbit("ctl2"),
      { host: "ctl3", state: "unreachable" } as const,
    ];
    const stopped = { host: "ctl2", state: "stopped" as const, grastate: grastate(9) };
    const report = recoverReport(facts([synced("ctl1"), stopped, gone("ctl3")], rabbit, off));
    expect([report.galera.kind, report.rabbitmq.kind]).toEqual(["join", "healthy"]);
    expect(report.exitCode).toBe(RECOVER_EXIT["recovery-needed"]);
  });
});
