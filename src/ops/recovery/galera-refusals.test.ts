import { afterAll, describe, expect, it } from "vitest";
import {
  fixture,
  gone,
  grastate,
  HISTORY,
  notSentences,
  OFF,
  OTHER,
  planner,
  waiting,
} from "./fixtures/galera-facts.ts";
import type { GaleraNode } from "./galera-facts.ts";
import { parseGrastate } from "./galera-state.ts";
import { EMPTY_UUID } from "./types.ts";

const { plan, plans } = planner();

describe("refusals", () => {
  const survivors = [waiting("ctl1", 9), waiting("ctl2", 9), gone("ctl3")];

  it("refuses when a missing controller's power state is unknown: it may hold a newer Primary", () => {
    const noAnswer = plan(survivors, { ctl3: { power: "unknown", fenced: false } });
    const noFacts = plan(survivors);

    expect(noAnswer).toMatchObject({ kind: "refuse" });
    expect(noAnswer.reasons).toEqual([
      "ctl3 is unreachable and its power state is unknown (its BMC does not answer and Pacemaker did not fence it): it may still run a Primary Component with newer commits. Power it off through its BMC or check it by hand, then run recover again.",
    ]);
    expect(noFacts.kind).toBe("refuse");
  });

  it("refuses a missing controller that is on when waiting cannot bring the Primary back", () => {
    const ctl2: GaleraNode = { host: "ctl2", state: "stopped", grastate: grastate(9) };

    const p = plan([waiting("ctl1", 9), ctl2, gone("ctl3")], { ctl3: { power: "on", fenced: true } });

    expect(p.kind).toBe("refuse");
    expect(p.reasons[0]).toMatch(
      /^ctl3 is unreachable but powered on \(BMC\), fenced by Pacemaker: it may be booting/,
    );
  });

  it("refuses equal highest seqnos from different histories", () => {
    const p = plan([
      { host: "ctl1", state: "stopped", grastate: grastate(2) },
      {
        host: "ctl2",
        state: "stopped",
        grastate: parseGrastate("ctl2", fixture("grastate-ctl4-other-history.dat")),
      },
    ]);

    expect(p.kind).toBe("refuse");
    expect(p.reasons).toEqual([
      "The highest seqnos are equal but from different histories (ctl1 at seqno 2 of history 61b2fa6a, ctl2 at seqno 2 of history 777e1979): these nodes hold different data, and a seqno cannot say which is newer. Choose the history to keep by hand.",
    ]);
  });

  it("refuses to compare seqnos of different histories at all", () => {
    const p = plan([
      { host: "ctl1", state: "stopped", grastate: grastate(15) },
      { host: "ctl2", state: "stopped", grastate: grastate(2, true, OTHER) },
    ]);

    expect(p.reasons).toEqual([
      "The nodes hold different histories (ctl1 at seqno 15 of history 61b2fa6a, ctl2 at seqno 2 of history 777e1979): seqnos of different histories cannot be compared. Choose the history to keep by hand.",
    ]);
  });

  it("refuses a node that claims safe_to_bootstrap while another is ahead", () => {
    const p = plan([
      { host: "ctl1", state: "stopped", grastate: grastate(-1), recovered: { uuid: HISTORY, seqno: 15 } },
      { host: "ctl2", state: "stopped", grastate: grastate(14, true) },
    ]);

    expect(p.kind).toBe("refuse");
    expect(p.reasons).toEqual([
      "ctl2's grastate.dat says safe_to_bootstrap: 1 at seqno 14, but ctl1 is ahead at seqno 15: the node files contradict each other. Find out what happened before choosing a node by hand.",
    ]);
  });

  it.each`
    case                                          | node                                                                                                      | why
    ${"crashed, not recovered"}                   | ${{ host: "ctl2", state: "stopped", grastate: grastate(-1) }}                                             | ${"grastate.dat says seqno -1 (it did not stop cleanly) and there is no --wsrep-recover result"}
    ${"no file, not recovered"}                   | ${{ host: "ctl2", state: "stopped" }}                                                                     | ${"no grastate.dat and no --wsrep-recover result"}
    ${"InnoDB without position for a history"}    | ${{ host: "ctl2", state: "stopped", grastate: grastate(-1), recovered: { uuid: EMPTY_UUID, seqno: -1 } }} | ${"grastate.dat names history 61b2fa6a but --wsrep-recover found no position in InnoDB"}
    ${"InnoDB and grastate.dat disagree"}         | ${{ host: "ctl2", state: "stopped", grastate: grastate(-1), recovered: { uuid: OTHER, seqno: 4 } }}       | ${"grastate.dat names history 61b2fa6a but InnoDB holds 777e1979"}
    ${"running silently, start position unknown"} | ${{ host: "ctl2", state: "running", grastate: grastate(-1) }}                                             | ${"MariaDB runs but does not answer SQL, and its start position is not known"}
  `("refuses when a seqno cannot be determined: $case", ({ node, why }) => {
    const p = plan([{ host: "ctl1", state: "stopped", grastate: grastate(8) }, node]);

    expect(p.kind).toBe("refuse");
    expect(p.reasons).toEqual([`The seqno of ctl2 cannot be determined: ${why}.`]);
  });

  it("gives every reason at once, not the first one", () => {
    const p = plan([
      waiting("ctl1", 9),
      { host: "ctl2", state: "stopped", grastate: grastate(-1) },
      gone("ctl3"),
    ]);

    expect(p.kind).toBe("refuse");
    expect(p.reasons).toHaveLength(2);
    expect(p.reasons[0]).toMatch(/^ctl3 is unreachable and its power state is unknown/);
    expect(p.reasons[1]).toMatch(/^The seqno of ctl2 cannot be determined/);
  });

  it("refuses when no node holds a history, or none answers", () => {
    const empty = { uuid: EMPTY_UUID, seqno: -1 };

    const fresh = plan([
      { host: "ctl1", state: "stopped", recovered: empty },
      { host: "ctl2", state: "stopped", recovered: empty },
    ]);
    const dark = plan([gone("ctl1"), gone("ctl2")], { ctl1: OFF, ctl2: OFF });

    expect(fresh.reasons).toEqual([
      "No reachable node holds a Galera history (each one is empty): there is nothing to bootstrap from.",
    ]);
    expect(dark).toMatchObject({
      kind: "refuse",
      reasons: ["No controller answers: there is no node to recover from."],
    });
  });
});

afterAll(() => {
  expect(plans.flatMap((p) => notSentences(p.reasons))).toEqual([]);
});
