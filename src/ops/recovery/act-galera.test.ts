import { describe, expect, it } from "vitest";
import { HastackError } from "../../util/errors.ts";
import { actGalera, MARK_SAFE_ARGV, PC_BOOTSTRAP_SQL } from "./act-galera.ts";
import { memoryJournal } from "./act-journal.ts";
import type { ActContext } from "./act-step.ts";
import { type Answer, fakeHost, hosts } from "./fixtures/fake-host.ts";
import { fixture, grastate, HISTORY, waiting } from "./fixtures/galera-facts.ts";
import type { GaleraNode } from "./galera-facts.ts";
import { type GaleraFacts, galeraPlan } from "./galera-plan.ts";
import { GRASTATE_PATH } from "./galera-state.ts";

/**
 * The Galera actor on composed facts, through fake Transports (a real node is a boundary unit
 * tests cannot reach). The fakes answer statically: what is checked is which command goes to
 * which host, in which order, and what stops the recovery.
 */
const OFF = { ctl3: { power: "off" as const, fenced: false } };
const MARK_SAFE = MARK_SAFE_ARGV.join(" ");

function status(state: string, comment: string): Answer {
  return {
    stdout: `wsrep_cluster_status\t${state}\nwsrep_local_state_comment\t${comment}\nwsrep_local_state_uuid\t${HISTORY}\nwsrep_last_committed\t9\nwsrep_cluster_size\t2\n`,
  };
}

const SYNCED = status("Primary", "Synced");
const OK: Answer = {};

/**
 * A node whose grastate.dat is the one a kill leaves (safe_to_bootstrap: 0) until the sed marks
 * it: the actor reads the file after the stop and again after the mark.
 */
function markable(name: string, answers: Record<string, Answer>, files: Record<string, string> = {}) {
  const spec = { files: { ...files, [GRASTATE_PATH]: fixture("grastate-ctl1-killed.dat") }, answers };
  const base = fakeHost(name, spec);
  const exec: typeof base.exec = async (command, opts) => {
    const line = typeof command === "string" ? command : command.join(" ");
    if (line.startsWith("sed -i")) spec.files[GRASTATE_PATH] = fixture("grastate-ctl1-last-clean-stop.dat");
    return base.exec(command, opts);
  };
  return { ...base, exec };
}

function context(transport: ActContext["transport"]) {
  const journal = memoryJournal();
  let now = 0;
  const ctx: ActContext = {
    transport,
    journal,
    timing: {
      bootstrapMs: 10_000,
      joinMs: 20_000,
      pollMs: 1_000,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    },
  };
  return { ctx, journal };
}

/** "host: command" of every step started, in order. */
function started(journal: ReturnType<typeof memoryJournal>): string[] {
  return journal.entries.flatMap((e) =>
    e.type === "action" && e.status === "started" ? [`${e.host}: ${e.command}`] : [],
  );
}

const unreachable: GaleraNode = { host: "ctl3", state: "unreachable" };

describe("actGalera", () => {
  it("a running, answering survivor ahead: pc.bootstrap over SQL, no restart, no grastate.dat change", async () => {
    const facts: GaleraFacts = { nodes: [waiting("ctl1", 9), waiting("ctl2", 7), unreachable], power: OFF };
    const plan = galeraPlan(facts);
    expect(plan).toMatchObject({ kind: "bootstrap", from: "ctl1", method: "pc-bootstrap" });
    const ctl1 = fakeHost("ctl1", { answers: { "mariadb -N -B": SYNCED } });
    const ctl2 = fakeHost("ctl2", { answers: { "mariadb -N -B": SYNCED } });
    const { ctx, journal } = context(hosts(ctl1, ctl2));
    await actGalera(plan, facts, ctx);
    expect(started(journal)).toEqual([`ctl1: mariadb -N -B <<< "${PC_BOOTSTRAP_SQL}"`]);
    expect(ctl1.stdins[0]).toBe(`${PC_BOOTSTRAP_SQL};\n`);
    // ctl2 follows by itself (it is connected to ctl1): it is only waited for.
    expect(ctl2.asked.every((a) => a === "mariadb -N -B")).toBe(true);
    expect(journal.entries.filter((e) => e.type === "wait").map((e) => e.host)).toEqual(["ctl1", "ctl2"]);
  });

  it("a survivor that runs without answering: stopped, marked safe, galera_new_cluster; the other starts after", async () => {
    const facts: GaleraFacts = {
      nodes: [
        { host: "ctl1", state: "running", grastate: grastate(-1), recovered: { uuid: HISTORY, seqno: 9 } },
        { host: "ctl2", state: "stopped", grastate: grastate(5) },
        unreachable,
      ],
      power: OFF,
    };
    const plan = galeraPlan(facts);
    expect(plan).toMatchObject({ kind: "bootstrap", from: "ctl1", method: "new-cluster" });
    const ctl1 = markable("ctl1", {
      "systemctl stop": OK,
      "sed -i": OK,
      galera_new_cluster: OK,
      "mariadb -N -B": SYNCED,
    });
    const ctl2 = fakeHost("ctl2", { answers: { "systemctl start": OK, "mariadb -N -B": SYNCED } });
    const { ctx, journal } = context(hosts(ctl1, ctl2));
    await actGalera(plan, facts, ctx);
    expect(started(journal)).toEqual([
      "ctl1: systemctl stop --no-block mariadb",
      `ctl1: ${MARK_SAFE}`,
      "ctl1: galera_new_cluster",
      "ctl2: systemctl start mariadb",
    ]);
    expect(ctl2.asked.some((a) => a.startsWith("sed"))).toBe(false);
  });

  it("the lab's power cut, two back: both silent mariadbds ignore SIGTERM and are killed after the grace, side by side, before the bootstrap", async () => {
    // Both survivors started from galera_recovery's position and wait for peers; systemd's stop
    // hung past 120 s on the lab (2026-12-03). A stateful fake: SIGTERM changes nothing, SIGKILL
    // stops the unit.
    const silent = (host: "ctl1" | "ctl2"): GaleraNode => ({
      host,
      state: "running",
      grastate: grastate(-1),
      recovered: { uuid: HISTORY, seqno: 8392 },
    });
    const facts: GaleraFacts = { nodes: [silent("ctl1"), silent("ctl2"), unreachable], power: OFF };
    const plan = galeraPlan(facts);
    expect(plan).toMatchObject({ kind: "bootstrap", from: "ctl1", join: [{ host: "ctl2", how: "restart" }] });
    const stuck = (name: string, extra: Record<string, Answer>) => {
      let state = "activating";
      const base = markable(name, {
        "systemctl stop --no-block": OK,
        "systemctl kill": OK,
        "sed -i": OK,
        ...extra,
      });
      const exec: typeof base.exec = async (command, opts) => {
        const line = typeof command === "string" ? command : command.join(" ");
        if (line === "systemctl show mariadb -p ActiveState") {
          base.asked.push(line);
          return { code: 0, stdout: `ActiveState=${state}\n`, stderr: "", durationMs: 0 };
        }
        if (line.startsWith("systemctl kill")) state = "failed";
        if (line === "galera_new_cluster" || line === "systemctl start mariadb") state = "active";
        return base.exec(command, opts);
      };
      return { ...base, exec };
    };
    const ctl1 = stuck("ctl1", { galera_new_cluster: OK, "mariadb -N -B": SYNCED });
    const ctl2 = stuck("ctl2", { "systemctl start": OK, "mariadb -N -B": SYNCED });
    const { ctx, journal } = context(hosts(ctl1, ctl2));
    await actGalera(plan, facts, ctx);
    // ctl2's waiting mariadbd stops before the bootstrap: left running, it gossiped its old view
    // to the new Primary and stopping it mid-merge cost ctl1 its Primary on the lab.
    // Both stop side by side: each SIGTERM is sent before either grace ends (one after the other,
    // two graces passed before the bootstrap could start).
    const steps = started(journal);
    expect(steps.slice(0, 2).sort()).toEqual([
      "ctl1: systemctl stop --no-block mariadb",
      "ctl2: systemctl stop --no-block mariadb",
    ]);
    expect(steps.slice(2, 4).sort()).toEqual([
      "ctl1: systemctl kill --signal=SIGKILL mariadb",
      "ctl2: systemctl kill --signal=SIGKILL mariadb",
    ]);
    expect(steps.slice(4)).toEqual([
      `ctl1: ${MARK_SAFE}`,
      "ctl1: galera_new_cluster",
      "ctl2: systemctl start mariadb",
    ]);
    const kill = journal.entries.find((e) => e.type === "action" && e.command?.includes("kill"));
    expect(kill).toMatchObject({ step: "kill mariadbd, still running 5 s after SIGTERM" });
  });

  it("a Primary running already: each node cut off from it is stopped and started in turn, no bootstrap", async () => {
    const cutOff = (host: string): GaleraNode => ({
      host,
      state: "running",
      wsrep: {
        clusterStatus: "non-Primary",
        localState: "Initialized",
        position: { uuid: HISTORY, seqno: 9 },
        clusterSize: 1,
      },
    });
    const primary: GaleraNode = {
      host: "ctl1",
      state: "running",
      wsrep: {
        clusterStatus: "Primary",
        localState: "Synced",
        position: { uuid: HISTORY, seqno: 12 },
        clusterSize: 1,
      },
    };
    const facts: GaleraFacts = { nodes: [primary, cutOff("ctl2"), cutOff("ctl3")], power: {} };
    const plan = galeraPlan(facts);
    expect(plan).toMatchObject({
      kind: "join",
      join: [
        { host: "ctl2", how: "restart" },
        { host: "ctl3", how: "restart" },
      ],
    });
    const joiner = (name: string) =>
      fakeHost(name, { answers: { "systemctl stop": OK, "systemctl start": OK, "mariadb -N -B": SYNCED } });
    const { ctx, journal } = context(hosts(fakeHost("ctl1"), joiner("ctl2"), joiner("ctl3")));
    await actGalera(plan, facts, ctx);
    expect(started(journal)).toEqual([
      "ctl2: systemctl stop --no-block mariadb",
      "ctl2: systemctl start mariadb",
      "ctl3: systemctl stop --no-block mariadb",
      "ctl3: systemctl start mariadb",
    ]);
  });

  it("a node whose grastate.dat already says safe_to_bootstrap: 1 is not edited", async () => {
    const facts: GaleraFacts = {
      nodes: [
        { host: "ctl1", state: "stopped", grastate: grastate(15, true) },
        { host: "ctl2", state: "stopped", grastate: grastate(14) },
        unreachable,
      ],
      power: OFF,
    };
    const ctl1 = fakeHost("ctl1", { answers: { galera_new_cluster: OK, "mariadb -N -B": SYNCED } });
    const ctl2 = fakeHost("ctl2", { answers: { "systemctl start": OK, "mariadb -N -B": SYNCED } });
    const { ctx, journal } = context(hosts(ctl1, ctl2));
    await actGalera(galeraPlan(facts), facts, ctx);
    expect(started(journal)).toEqual(["ctl1: galera_new_cluster", "ctl2: systemctl start mariadb"]);
  });

  it("a grastate.dat that still says 0 after sed: stops before galera_new_cluster", async () => {
    const facts: GaleraFacts = {
      nodes: [
        { host: "ctl1", state: "stopped", grastate: grastate(9) },
        { host: "ctl2", state: "stopped", grastate: grastate(5) },
        unreachable,
      ],
      power: OFF,
    };
    const ctl1 = fakeHost("ctl1", {
      files: { [GRASTATE_PATH]: fixture("grastate-ctl2-clean-stop.dat") },
      answers: { "sed -i": OK, galera_new_cluster: OK },
    });
    const { ctx } = context(hosts(ctl1, fakeHost("ctl2")));
    const error = (await actGalera(galeraPlan(facts), facts, ctx).catch((e: unknown) => e)) as HastackError;
    expect(error).toBeInstanceOf(HastackError);
    expect(error.code).toBe("E_RECOVER_STEP");
    expect(error.message).toBe(
      `Cannot mark grastate.dat safe_to_bootstrap: 1 on ctl1: ${GRASTATE_PATH} still says safe_to_bootstrap: 0`,
    );
    expect(ctl1.asked).not.toContain("galera_new_cluster");
  });

  it("a bootstrapped node that never becomes Primary: a timeout naming host, step and last state; no joiner started", async () => {
    const facts: GaleraFacts = { nodes: [waiting("ctl1", 9), waiting("ctl2", 7), unreachable], power: OFF };
    const ctl1 = fakeHost("ctl1", { answers: { "mariadb -N -B": status("non-Primary", "Initialized") } });
    const ctl2 = fakeHost("ctl2");
    const { ctx } = context(hosts(ctl1, ctl2));
    const error = (await actGalera(galeraPlan(facts), facts, ctx).catch((e: unknown) => e)) as HastackError;
    expect(error.code).toBe("E_RECOVER_TIMEOUT");
    expect(error.message).toBe(
      "Cannot wait for the bootstrapped node to be Primary and Synced on ctl1: not done after 10 s (last seen: non-Primary, Initialized, seqno 9, cluster size 2)",
    );
    expect(ctl2.asked).toEqual([]);
  });

  it("a host lost in the middle: the transport's sentence in the error", async () => {
    const facts: GaleraFacts = {
      nodes: [
        { host: "ctl1", state: "stopped", grastate: grastate(9, true) },
        { host: "ctl2", state: "stopped", grastate: grastate(5) },
        unreachable,
      ],
      power: OFF,
    };
    const { ctx, journal } = context(hosts(fakeHost("ctl1", { down: true }), fakeHost("ctl2")));
    const error = (await actGalera(galeraPlan(facts), facts, ctx).catch((e: unknown) => e)) as HastackError;
    expect(error.message).toBe(
      "Cannot bootstrap galera (galera_new_cluster) on ctl1: Cannot connect to ctl1 (10.20.0.13:22): connect EHOSTUNREACH",
    );
    expect(journal.entries.at(-1)).toMatchObject({ type: "action", host: "ctl1", status: "failed" });
  });
});
