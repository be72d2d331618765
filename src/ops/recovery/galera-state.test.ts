import { describe, expect, it } from "vitest";
// Files and logs of the real MariaDB 11.8 + galera-4, captured by fixtures/capture.ts.
import { fixture, HISTORY, OTHER } from "./fixtures/galera-facts.ts";
import {
  parseGrastate,
  parseGvwstate,
  parseRecoveredPosition,
  parseWsrepStatus,
  WSREP_VARIABLES,
} from "./galera-state.ts";
import { EMPTY_UUID } from "./types.ts";

function rows(name: string): string[][] {
  return fixture(name)
    .trimEnd()
    .split("\n")
    .map((l) => l.split("\t"));
}

describe("grastate.dat", () => {
  it.each`
    file                                   | seqno | safe
    ${"grastate-ctl1-running.dat"}         | ${-1} | ${false}
    ${"grastate-ctl1-killed.dat"}          | ${-1} | ${false}
    ${"grastate-ctl1-after-recover.dat"}   | ${-1} | ${false}
    ${"grastate-ctl3-clean-stop.dat"}      | ${6}  | ${false}
    ${"grastate-ctl2-clean-stop.dat"}      | ${14} | ${false}
    ${"grastate-ctl1-last-clean-stop.dat"} | ${15} | ${true}
  `("reads $file: seqno $seqno, safe_to_bootstrap $safe", ({ file, seqno, safe }) => {
    const g = parseGrastate("ctl1", fixture(file));

    expect(g).toEqual({ version: "2.1", uuid: HISTORY, seqno, safeToBootstrap: safe });
  });

  it("reads the file Galera padded with a space after a shorter seqno, and another history", () => {
    const g = parseGrastate("ctl4", fixture("grastate-ctl4-other-history.dat"));

    expect(fixture("grastate-ctl4-other-history.dat").endsWith("\n ")).toBe(true);
    expect(g.uuid).toBe(OTHER);
    expect(g).toMatchObject({ seqno: 2, safeToBootstrap: true });
  });

  it("reads a file without safe_to_bootstrap (Galera before 3.19) as not safe", () => {
    const old = fixture("grastate-ctl3-clean-stop.dat").replace(/^safe_to_bootstrap.*$/m, "");

    expect(parseGrastate("ctl3", old).safeToBootstrap).toBe(false);
  });

  it.each`
    damage                  | edit                                                   | message
    ${"cut after the uuid"} | ${(t: string) => t.slice(0, t.indexOf("seqno"))}       | ${"seqno"}
    ${"an empty file"}      | ${() => ""}                                            | ${"uuid"}
    ${"a garbled seqno"}    | ${(t: string) => t.replace("seqno:   6", "seqno: 6x")} | ${"seqno: not an integer"}
    ${"a seqno below -1"}   | ${(t: string) => t.replace("seqno:   6", "seqno: -2")} | ${"seqno: below -1"}
  `("refuses $damage, naming the host and the file", ({ edit, message }) => {
    const text = edit(fixture("grastate-ctl3-clean-stop.dat"));

    expect(() => parseGrastate("ctl3", text)).toThrow(
      expect.objectContaining({
        code: "E_GALERA_STATE",
        message: expect.stringMatching(
          new RegExp(`^Cannot read /var/lib/mysql/grastate.dat on ctl3: .*${message}`),
        ),
      }),
    );
  });
});

describe("gvwstate.dat", () => {
  it("reads the 3-member Primary view each member saved, with its own uuid", () => {
    const ctl1 = parseGvwstate("ctl1", fixture("gvwstate-ctl1-3-members.dat"));
    const ctl2 = parseGvwstate("ctl2", fixture("gvwstate-ctl2-3-members.dat"));

    expect(ctl1.view).toEqual({ type: 3, uuid: ctl1.myUuid, seq: 3 });
    expect(ctl1.bootstrap).toBe(false);
    expect(ctl1.members).toHaveLength(3);
    expect(ctl1.members.every((m) => m.segment === 0)).toBe(true);
    expect(ctl2.members).toEqual(ctl1.members);
    expect(ctl2.myUuid).not.toBe(ctl1.myUuid);
    expect(ctl1.members.map((m) => m.uuid)).toContain(ctl2.myUuid);
  });

  it("reads the newer 2-member view left by a power cut after ctl3 had left", () => {
    const killed = parseGvwstate("ctl1", fixture("gvwstate-ctl1-killed.dat"));
    const before = parseGvwstate("ctl1", fixture("gvwstate-ctl1-3-members.dat"));

    expect(killed.view.seq).toBeGreaterThan(before.view.seq);
    expect(killed.members.map((m) => m.uuid)).toEqual(before.members.slice(0, 2).map((m) => m.uuid));
  });

  it("refuses a file cut short (no #vwend) or without members", () => {
    const text = fixture("gvwstate-ctl1-killed.dat");
    const cut = text.slice(0, text.indexOf("#vwend"));
    const noMembers = text.replace(/^member:.*\n/gm, "");

    expect(() => parseGvwstate("ctl1", cut)).toThrow(
      "Cannot read /var/lib/mysql/gvwstate.dat on ctl1: complete: no #vwend line (the file is cut short)",
    );
    expect(() => parseGvwstate("ctl2", noMembers)).toThrow(/on ctl2: members: no member/);
  });
});

describe("mariadbd --wsrep-recover", () => {
  it.each`
    file                                   | uuid          | seqno
    ${"wsrep-recover-ctl1-killed.log"}     | ${HISTORY}    | ${9}
    ${"wsrep-recover-ctl2-killed.log"}     | ${HISTORY}    | ${9}
    ${"wsrep-recover-ctl3-clean-stop.log"} | ${HISTORY}    | ${6}
    ${"wsrep-recover-never-joined.log"}    | ${EMPTY_UUID} | ${-1}
  `("reads $uuid:$seqno from $file", ({ file, uuid, seqno }) => {
    expect(parseRecoveredPosition("ctl1", fixture(file))).toEqual({ uuid, seqno });
  });

  it("agrees with the seqno the cluster reported before the cut and with grastate.dat after a clean stop", () => {
    const lastCommitted = rows("status-2-nodes.tsv").find(([k]) => k === "wsrep_last_committed")?.[1];
    const clean = parseGrastate("ctl3", fixture("grastate-ctl3-clean-stop.dat"));

    expect(parseRecoveredPosition("ctl1", fixture("wsrep-recover-ctl1-killed.log")).seqno).toBe(
      Number(lastCommitted),
    );
    expect(parseRecoveredPosition("ctl3", fixture("wsrep-recover-ctl3-clean-stop.log")).seqno).toBe(
      clean.seqno,
    );
  });

  it("says why when there is no position: wsrep off, mariadbd's error, or nothing", () => {
    const log = fixture("wsrep-recover-ctl1-killed.log");
    const head = log.slice(0, log.indexOf("WSREP: Recovered"));
    const skipped = `${head}2026-12-02 18:05:12 0 [Note] WSREP: wsrep_on is OFF, skipping position recovery\n`;
    const locked = `${head}2026-12-02 18:05:12 0 [ERROR] InnoDB: Unable to lock ./ibdata1 error: 11\n`;

    expect(() => parseRecoveredPosition("ctl1", skipped)).toThrow(
      "Cannot read the recovered position of ctl1 from mariadbd --wsrep-recover: wsrep is off in this configuration",
    );
    expect(() => parseRecoveredPosition("ctl1", locked)).toThrow(
      "from mariadbd --wsrep-recover: mariadbd said: InnoDB: Unable to lock ./ibdata1 error: 11",
    );
    expect(() => parseRecoveredPosition("ctl2", head)).toThrow(
      /of ctl2 .*: no line 'WSREP: Recovered position'/,
    );
  });

  it("refuses a garbled position", () => {
    const garbled = "2026-12-02 18:05:12 0 [Note] WSREP: Recovered position: 61b2fa6a:9\n";

    expect(() => parseRecoveredPosition("ctl1", garbled)).toThrow(
      expect.objectContaining({
        code: "E_GALERA_STATE",
        message: expect.stringContaining("uuid: not a uuid"),
      }),
    );
  });
});

describe("SHOW GLOBAL STATUS (wsrep)", () => {
  it("reads a survivor out of the Primary Component: non-Primary, Initialized, its last seqno", () => {
    const status = parseWsrepStatus("ctl1", rows("status-ctl1-non-primary.tsv"));

    expect(status).toEqual({
      clusterStatus: "non-Primary",
      localState: "Initialized",
      position: { uuid: HISTORY, seqno: 9 },
      clusterSize: 1,
    });
  });

  it("names the variables it asks for and refuses an answer without them", () => {
    const partial = rows("status-ctl1-non-primary.tsv").filter(([k]) => k !== "wsrep_last_committed");

    expect(WSREP_VARIABLES).toContain("wsrep_local_state_uuid");
    expect(() => parseWsrepStatus("ctl1", partial)).toThrow(
      /^Cannot read SHOW GLOBAL STATUS \(wsrep\) on ctl1: wsrep_last_committed:/,
    );
  });
});
