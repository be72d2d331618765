import { describe, expect, it } from "vitest";
import { exampleTopology } from "../../testing/fixtures.ts";
import { HastackError } from "../../util/errors.ts";
import { memoryJournal } from "./act-journal.ts";
import { collectRecoveryFacts } from "./collect.ts";
import { recoverSite, type SiteOptions } from "./fixtures/recover-site.ts";
import { GRASTATE_PATH } from "./galera-state.ts";
import { type RecoverActInput, recoverAct } from "./recover-act.ts";

/**
 * Issue #11's case end to end through fake Transports (recover-site.ts: real SSH, systemd,
 * MariaDB and RabbitMQ are a boundary unit tests cannot reach). The collectors, decisions and
 * actors are the real code; the assertions are on the exact commands each host was sent.
 */
const topology = exampleTopology("lab");
const secret = (name: string) => (name.startsWith("bmc_") ? "Bmc-Secret" : undefined);
/** A clock that moves only when waited on: a wait that never ends fails at once, in its bound. */
function fakeClock() {
  let now = 0;
  return {
    pollMs: 1_000,
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

function setup(options: SiteOptions = {}, more: Partial<RecoverActInput> = {}) {
  const site = recoverSite(options);
  const journal = memoryJournal();
  const printed: string[] = [];
  const input: RecoverActInput = {
    collect: () => collectRecoveryFacts({ topology, transport: site.transport, secret }),
    transport: site.transport,
    journal,
    yes: true,
    print: (text) => void printed.push(text),
    timing: fakeClock(),
    ...more,
  };
  return { site, journal, printed, input };
}

/** The commands that change something, in order: what the operator's recovery did. */
function changes(log: readonly string[]): string[] {
  return log.filter((l) =>
    /: (sed -i|galera_new_cluster|systemctl (start|stop|restart)|rabbitmqctl (force_boot|forget)|rabbitmq-queues)/.test(
      l,
    ),
  );
}

describe("recoverAct (two of three controllers back, ctl3 powered off)", () => {
  it("bootstraps Galera on the highest seqno (ctl2), marks only it safe, then ctl1 joins; RabbitMQ beside it", async () => {
    const { site, journal, printed, input } = setup({ seqno: { ctl1: 7, ctl2: 9 } });
    const code = await recoverAct(input);
    const done = changes(site.log);
    expect(done.filter((l) => !l.includes("rabbit"))).toEqual([
      `ctl2: sed -i s/^safe_to_bootstrap:[[:space:]]*0[[:space:]]*$/safe_to_bootstrap: 1/ ${GRASTATE_PATH}`,
      "ctl2: galera_new_cluster",
      "ctl1: systemctl start mariadb",
    ]);
    // Both RabbitMQ survivors list the same shutdown view: the first in inventory order is forced.
    expect(done.filter((l) => l.includes("rabbit"))).toEqual([
      "ctl1: systemctl stop rabbitmq-server",
      "ctl1: rabbitmqctl force_boot",
      "ctl1: systemctl start rabbitmq-server",
      "ctl2: systemctl restart rabbitmq-server",
    ]);
    // Side by side: RabbitMQ's force_boot does not wait for Galera's bootstrap and join.
    expect(done.indexOf("ctl1: rabbitmqctl force_boot")).toBeLessThan(
      done.indexOf("ctl1: systemctl start mariadb"),
    );
    expect(site.specs.ctl1.files?.[GRASTATE_PATH]).toMatch(/^safe_to_bootstrap: 0/m);
    expect(site.specs.ctl2.files?.[GRASTATE_PATH]).toMatch(/^safe_to_bootstrap: 1/m);
    // The joiner starts only after the bootstrapped node was seen Primary and Synced.
    const synced = journal.entries.findIndex((e) => e.type === "wait" && e.host === "ctl2");
    const join = journal.entries.findIndex(
      (e) => e.type === "action" && e.host === "ctl1" && e.step === "start galera to join",
    );
    expect(synced).toBeGreaterThan(-1);
    expect(join).toBeGreaterThan(synced);
    expect(journal.entries.at(-1)).toEqual({ type: "recover-end", status: "ok" });
    expect(printed.at(-1)).toContain("After the recovery:");
    expect(printed.at(-1)).toContain("Recovered: recover exits 0.");
    expect(printed.join("")).not.toContain("Bmc-Secret");
    expect(code).toBe(0);
  });

  it("with ctl1 ahead instead: ctl1 is bootstrapped and ctl2 joins", async () => {
    const { site, input } = setup({ seqno: { ctl1: 12, ctl2: 9 } });
    await recoverAct(input);
    const galera = changes(site.log).filter((l) => !l.includes("rabbit"));
    expect(galera).toEqual([
      expect.stringMatching(/^ctl1: sed -i /),
      "ctl1: galera_new_cluster",
      "ctl2: systemctl start mariadb",
    ]);
    expect(site.specs.ctl2.files?.[GRASTATE_PATH]).toMatch(/^safe_to_bootstrap: 0/m);
  });

  it("refuses when the plan computed before acting differs from the one confirmed, changing nothing", async () => {
    const { site, journal, input } = setup({ seqno: { ctl1: 7, ctl2: 9 } });
    // While the operator reads the plan, ctl1's InnoDB turns out ahead (a seqno read again differs).
    input.yes = false;
    input.ask = async () => {
      const log = site.specs.ctl1.answers ?? {};
      for (const key of Object.keys(log))
        if (key.includes("wsrep_recover")) {
          const was = log[key];
          const stderr = Array.isArray(was) ? "" : (was?.stderr ?? "");
          log[key] = { stderr: stderr.replace(/:7$/m, ":12") };
        }
      return true;
    };
    const error = await recoverAct(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HastackError);
    expect((error as HastackError).code).toBe("E_RECOVER_PLAN_CHANGED");
    expect((error as HastackError).message).toContain(
      'confirmed "Galera: bootstrap ctl2 (seqno 9, new-cluster), then start ctl1',
    );
    expect((error as HastackError).message).toContain('now "Galera: bootstrap ctl1 (seqno 12, new-cluster)');
    expect(changes(site.log)).toEqual([]);
    expect(journal.entries.map((e) => e.type)).toEqual(["refused"]);
  });

  it("a failing step stops its track (Galera, then the cluster stack): host, step and stderr in the error; RabbitMQ's track ends", async () => {
    const { site, journal, input } = setup({
      seqno: { ctl1: 7, ctl2: 9 },
      override: {
        ctl2: {
          galera_new_cluster: {
            code: 1,
            stderr: "Job for mariadb.service failed.\nWSREP: failed to open gcomm backend",
          },
        },
      },
    });
    const error = (await recoverAct(input).catch((e: unknown) => e)) as HastackError;
    expect(error.code).toBe("E_RECOVER_STEP");
    expect(error.message).toBe(
      "Cannot bootstrap galera (galera_new_cluster) on ctl2: exit code 1: Job for mariadb.service failed. / WSREP: failed to open gcomm backend",
    );
    expect(error.hint).toContain("(memory) lists what was done");
    const done = changes(site.log);
    expect(done.filter((l) => !l.includes("rabbit")).at(-1)).toBe("ctl2: galera_new_cluster");
    expect(done).not.toContain("ctl1: systemctl start mariadb");
    expect(done.filter((l) => l.includes("rabbit"))).toEqual([
      "ctl1: systemctl stop rabbitmq-server",
      "ctl1: rabbitmqctl force_boot",
      "ctl1: systemctl start rabbitmq-server",
      "ctl2: systemctl restart rabbitmq-server",
    ]);
    expect(journal.entries.at(-1)).toMatchObject({ type: "recover-end", status: "failed" });
  });

  it("without --yes and without a terminal: refused before any host is asked", async () => {
    const { site, input } = setup({}, { yes: false });
    const error = (await recoverAct(input).catch((e: unknown) => e)) as HastackError;
    expect(error.code).toBe("E_RECOVER_CONFIRM");
    expect(site.log).toEqual([]);
  });

  it("an operator who does not confirm: refused after the plan is shown, nothing changed", async () => {
    const { site, printed, input } = setup({}, { yes: false, ask: async () => false });
    const error = (await recoverAct(input).catch((e: unknown) => e)) as HastackError;
    expect(error.code).toBe("E_RECOVER_CONFIRM");
    expect(printed[0]).toContain("the plan above is carried out once confirmed");
    expect(changes(site.log)).toEqual([]);
  });
});
