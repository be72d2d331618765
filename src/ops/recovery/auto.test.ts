import { describe, expect, it } from "vitest";
import { exampleTopology } from "../../testing/fixtures.ts";
import { memoryJournal } from "./act-journal.ts";
import { AUTO_DEFAULTS, type AutoMemory, actionKeys, autoDecision, recoverAuto } from "./auto.ts";
import { collectRecoveryFacts } from "./collect.ts";
import { recoverSite, type SiteOptions } from "./fixtures/recover-site.ts";
import { recoverAct } from "./recover-act.ts";
import { recoverReport } from "./recover-report.ts";

/**
 * The automatic mode on issue #11's site (recover-site.ts: fake Transports that change state when
 * commanded; real SSH, systemd and the daemons are a boundary unit tests cannot reach, and
 * recover-auto.e2e.test.ts runs the watcher on the lab). The collectors, the plan, the actors
 * and the watcher's loop are the real code.
 */
const topology = exampleTopology("lab");
const secret = (name: string) => (name.startsWith("bmc_") ? "Bmc-Secret" : undefined);

function watcher(options: SiteOptions = {}, rounds = 4) {
  const site = recoverSite(options);
  const journal = memoryJournal();
  const printed: string[] = [];
  let now = 0;
  let round = 0;
  const stop = new AbortController();
  const collect = () => collectRecoveryFacts({ topology, transport: site.transport, secret });
  const slept: number[] = [];
  const clock = {
    pollMs: 1_000,
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
  const run = () =>
    recoverAuto({
      collect: async () => {
        round += 1;
        if (round >= rounds) stop.abort();
        return collect();
      },
      act: (facts) =>
        recoverAct({
          collect: async () => facts,
          transport: site.transport,
          journal: memoryJournal(),
          yes: true,
          print: () => undefined,
          timing: clock,
        }),
      journal,
      print: (line) => void printed.push(line),
      settings: AUTO_DEFAULTS,
      now: clock.now,
      sleep: async (ms) => {
        slept.push(ms);
        await clock.sleep(ms);
      },
      signal: stop.signal,
    });
  const decisions = () => journal.entries.flatMap((e) => (e.type === "auto" ? [e.decision] : []));
  return { site, run, printed, decisions, collect, slept };
}

const bootstraps = (log: readonly string[]) => log.filter((l) => l.endsWith(": galera_new_cluster"));

describe("recover --auto", () => {
  it("acts on the second read that gives the same plan, once; then the site needs nothing", async () => {
    const w = watcher({ seqno: { ctl1: 7, ctl2: 9 } }, 4);
    await w.run();
    // Read 1: a new plan, held. Read 2 (10 s later): the same, acted on. Reads 3-4: nothing to do.
    expect(w.decisions()).toEqual(["hold", "act", "idle", "idle"]);
    expect(bootstraps(w.site.log)).toEqual(["ctl2: galera_new_cluster"]);
    // The second read comes after the settle time (10 s), and again right after acting; with
    // nothing to do, every 30 s (a read runs the Erlang CLI on every controller).
    expect(w.slept.slice(0, 3)).toEqual([10_000, 10_000, 30_000]);
    expect(w.printed[1]).toMatch(
      /^act: the same plan on two reads 10 s apart, ctl3 off by its BMC: Galera: bootstrap ctl2 \(seqno 9/,
    );
    // The fake site's reread right after acting still lists a step (exit 2); the next read of the
    // watcher finds nothing to do, and nothing is done twice.
    expect(w.printed[2]).toMatch(/^idle: the recovery ended with exit code \d$/);
  });

  it("holds, changing nothing, while recover refuses (the missing controller's BMC hangs)", async () => {
    const hung = { ipmitool: { code: 1, stderr: "Error: Unable to establish IPMI v2 / RMCP+ session" } };
    const w = watcher({ override: { ctl1: hung, ctl2: hung } }, 5);
    await w.run();
    // The same refusal each read: said once.
    expect(w.decisions()).toEqual(["hold"]);
    expect(w.printed[0]).toMatch(
      /^hold: recover refuses\. Galera: ctl3 is unreachable and its power state is unknown .* RabbitMQ: ctl3/,
    );
    expect(bootstraps(w.site.log)).toEqual([]);
    expect(w.site.log.some((l) => /force_boot|sed -i|systemctl (start|restart)/.test(l))).toBe(false);
  });

  it("a plan that acts but a BMC that does not say off (fenced in Pacemaker's history only): held", async () => {
    const w = watcher();
    const report = recoverReport(await w.collect());
    expect(report.verdict).toBe("recovery-needed");
    const memory: AutoMemory = { acted: new Map() };
    const fencedOnly = { ...report, power: { ctl3: { power: "unknown" as const, fenced: true } } };
    for (const now of [0, 60_000])
      expect(autoDecision(fencedOnly, memory, now, AUTO_DEFAULTS)).toEqual({
        kind: "hold",
        reason:
          "ctl3's BMC says unknown: the automatic mode acts only when every controller it cannot reach is reported off by its BMC",
      });
  });

  it("settle: two reads of one plan closer than settleMs are not enough; a changed plan starts over", async () => {
    const w = watcher();
    const report = recoverReport(await w.collect());
    const memory: AutoMemory = { acted: new Map() };
    const settings = { ...AUTO_DEFAULTS, settleMs: 30_000 };
    expect(autoDecision(report, memory, 0, settings).kind).toBe("hold");
    expect(autoDecision(report, memory, 20_000, settings)).toEqual({
      kind: "hold",
      reason: "the same plan for 20 s: read again before acting",
    });
    const other = { ...report, stack: { kind: "start" as const, hosts: ["ctl1"], reasons: [] } };
    expect(autoDecision(other, memory, 40_000, settings).kind).toBe("hold");
    expect(autoDecision(other, memory, 70_000, settings).kind).toBe("act");
  });

  it("cooldown: an action carried out within it is left to the operator; another one is not held back", async () => {
    const w = watcher();
    const report = recoverReport(await w.collect());
    const keys = actionKeys(report);
    expect(keys).toEqual(["galera bootstrap", "rabbitmq force-boot ctl1", "rabbitmq restart ctl2"]);
    const memory: AutoMemory = { acted: new Map(keys.map((k) => [k, 0])) };
    autoDecision(report, memory, 60_000, AUTO_DEFAULTS);
    const again = autoDecision(report, memory, 80_000, AUTO_DEFAULTS);
    expect(again.kind).toBe("alert");
    expect(again.reason).toMatch(
      /repeats what was carried out less than 1800 s ago: galera bootstrap, rabbitmq/,
    );
    // Said once: the next read's alert has the same words.
    expect(autoDecision(report, memory, 90_000, AUTO_DEFAULTS)).toEqual(again);
    // ctl3 back later: starting its cluster stack was not done before, so it is not held back.
    const ctl3 = {
      ...report,
      galera: { kind: "healthy" as const, nodes: [], reasons: [] },
      rabbitmq: { ...report.rabbitmq, kind: "healthy" as const, actions: [] },
      stack: { kind: "start" as const, hosts: ["ctl3"], reasons: [] },
      power: {},
    };
    autoDecision(ctl3, memory, 100_000, AUTO_DEFAULTS);
    expect(autoDecision(ctl3, memory, 110_000, AUTO_DEFAULTS).kind).toBe("act");
  });
});
