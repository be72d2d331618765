import { describe, expect, it } from "vitest";
import { HastackError } from "../../util/errors.ts";
import { collectGaleraNode, WSREP_RECOVER_ARGV } from "./collect-galera.ts";
import { fakeHost } from "./fixtures/fake-host.ts";
import { fixture, HISTORY } from "./fixtures/galera-facts.ts";
import { nodePosition, type ReachableNode } from "./galera-facts.ts";
import { GRASTATE_PATH, GVWSTATE_PATH } from "./galera-state.ts";

/**
 * The collector against a fake Transport (the boundary) that answers with what the real
 * MariaDB 11.8 + galera-4 wrote and printed (fixtures/README.md). The hostkit runners, the
 * zod parsers and the collector are the real code.
 */
const RECOVER = WSREP_RECOVER_ARGV.join(" ");
const SOCKET_ERROR =
  "ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)";

describe("collectGaleraNode", () => {
  it("reads a running survivor's wsrep status and files, and never runs --wsrep-recover", async () => {
    const ctl1 = fakeHost("ctl1", {
      units: { mariadb: "active" },
      files: {
        [GRASTATE_PATH]: fixture("grastate-ctl1-running.dat"),
        [GVWSTATE_PATH]: fixture("gvwstate-ctl1-killed.dat"),
      },
      answers: { "mariadb -N -B": { stdout: fixture("status-ctl1-non-primary.tsv") } },
    });
    const { node, unreachable } = await collectGaleraNode(ctl1);
    expect(unreachable).toBeUndefined();
    expect(node).toMatchObject({
      host: "ctl1",
      state: "running",
      wsrep: {
        clusterStatus: "non-Primary",
        localState: "Initialized",
        position: { uuid: HISTORY, seqno: 9 },
      },
      grastate: { seqno: -1 },
      gvwstate: { view: { seq: 4 } },
    });
    expect(ctl1.asked).not.toContain(RECOVER);
  });

  it("runs mariadbd --wsrep-recover as the mysql user when MariaDB is stopped after a crash", async () => {
    const ctl2 = fakeHost("ctl2", {
      units: { mariadb: "failed" },
      files: { [GRASTATE_PATH]: fixture("grastate-ctl2-killed.dat") },
      answers: {
        "pgrep -x mariadbd": { code: 1 },
        [RECOVER]: { stderr: fixture("wsrep-recover-ctl2-killed.log") },
      },
    });
    const { node, notes } = await collectGaleraNode(ctl2);
    expect(ctl2.asked).toContain(RECOVER);
    expect(RECOVER).toContain("--user=mysql");
    expect(node).toMatchObject({ state: "stopped", recovered: { uuid: HISTORY, seqno: 9 } });
    expect(nodePosition(node as ReachableNode)).toEqual({
      kind: "known",
      position: { uuid: HISTORY, seqno: 9 },
      source: "--wsrep-recover",
    });
    expect(notes).toEqual(["ctl2: mariadbd --wsrep-recover found seqno 9 (grastate.dat says -1)"]);
  });

  it("trusts grastate.dat after a clean stop, without --wsrep-recover", async () => {
    const ctl3 = fakeHost("ctl3", {
      files: { [GRASTATE_PATH]: fixture("grastate-ctl3-clean-stop.dat") },
      answers: { "pgrep -x mariadbd": { code: 1 } },
    });
    const { node } = await collectGaleraNode(ctl3);
    expect(node).toMatchObject({ state: "stopped", grastate: { seqno: 6, safeToBootstrap: false } });
    expect(node).not.toHaveProperty("gvwstate");
    expect(ctl3.asked).not.toContain(RECOVER);
  });

  it("records an unreachable host with the transport's reason, and does not throw", async () => {
    const { node, unreachable } = await collectGaleraNode(fakeHost("ctl3", { down: true }));
    expect(node).toEqual({ host: "ctl3", state: "unreachable" });
    expect(unreachable).toBe("Cannot connect to ctl3 (10.20.0.13:22): connect EHOSTUNREACH");
  });

  it("a silent, starting mariadbd: the start position from the unit's environment, never --wsrep-recover", async () => {
    // Debian's mariadb.service sets this in ExecStartPre (galera_recovery's output) and unsets it
    // once mariadbd is ready: documented format, not captured.
    const ctl1 = fakeHost("ctl1", {
      units: { mariadb: "activating" },
      files: { [GRASTATE_PATH]: fixture("grastate-ctl1-killed.dat") },
      answers: {
        "mariadb -N -B": { code: 1, stderr: SOCKET_ERROR },
        "systemctl show-environment": {
          stdout: `LANG=C.UTF-8\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\n_WSREP_START_POSITION=--wsrep_start_position=${HISTORY}:9\n`,
        },
      },
    });
    const { node } = await collectGaleraNode(ctl1);
    expect(node).toMatchObject({ state: "running", recovered: { uuid: HISTORY, seqno: 9 } });
    expect(node).not.toHaveProperty("wsrep");
    expect(ctl1.asked).not.toContain(RECOVER);
  });

  it("a silent, starting mariadbd of Debian 13's unit: the start position from its argv", async () => {
    // MariaDB 11.8's mariadb.service passes it on the command line only (captured on the lab's ctl1,
    // all three controllers power-cut and two back, 2026-12-03; uuid replaced by the fixture's).
    const ctl1 = fakeHost("ctl1", {
      units: { mariadb: "activating" },
      files: { [GRASTATE_PATH]: fixture("grastate-ctl1-killed.dat") },
      answers: {
        "mariadb -N -B": { code: 1, stderr: SOCKET_ERROR },
        "pgrep -a -x mariadbd": { stdout: `161 /usr/sbin/mariadbd --wsrep_start_position=${HISTORY}:8392\n` },
        "systemctl show-environment": {
          stdout: "LANG=C.UTF-8\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\n",
        },
      },
    });
    const { node, notes } = await collectGaleraNode(ctl1);
    expect(node).toMatchObject({ state: "running", recovered: { uuid: HISTORY, seqno: 8392 } });
    expect(ctl1.asked).not.toContain(RECOVER);
    expect(notes.join("\n")).toContain("started from seqno 8392");
    // Still so while a stop it ignores hangs (SubState stop-sigterm, seen on the lab).
    const stopping = fakeHost("ctl1", {
      units: { mariadb: "deactivating" },
      files: { [GRASTATE_PATH]: fixture("grastate-ctl1-killed.dat") },
      answers: {
        "mariadb -N -B": { code: 1, stderr: SOCKET_ERROR },
        "pgrep -a -x mariadbd": { stdout: `161 /usr/sbin/mariadbd --wsrep_start_position=${HISTORY}:8392\n` },
      },
    });
    expect((await collectGaleraNode(stopping)).node).toMatchObject({ recovered: { seqno: 8392 } });
  });

  it("waits while galera_recovery's --wsrep-recover runs, then reads the start position it gave", async () => {
    // Seconds after a power-on (the lab's ctl1, 2026-12-05): the unit activating, no mariadbd
    // yet, then only galera_recovery's, and no position on any command line. recover refused then.
    const recovering = `218 /usr/sbin/mariadbd --user=mysql --wsrep_recover --disable-log-error\n`;
    const ctl1 = fakeHost("ctl1", {
      units: { mariadb: "activating" },
      files: { [GRASTATE_PATH]: fixture("grastate-ctl1-killed.dat") },
      answers: {
        "mariadb -N -B": { code: 1, stderr: SOCKET_ERROR },
        "pgrep -a -x mariadbd": [
          { code: 1 },
          { stdout: recovering },
          { stdout: recovering },
          { stdout: `161 /usr/sbin/mariadbd --wsrep_start_position=${HISTORY}:13852\n` },
        ],
      },
    });
    const { node } = await collectGaleraNode(ctl1);
    expect(node).toMatchObject({ state: "running", recovered: { uuid: HISTORY, seqno: 13852 } });
    expect(ctl1.asked.filter((l) => l.includes("pgrep -a"))).toHaveLength(4);
    expect(ctl1.asked).not.toContain(RECOVER);
  });

  it("a mariadbd started by hand outside the unit counts as running: --wsrep-recover would race it", async () => {
    const ctl1 = fakeHost("ctl1", {
      units: { mariadb: "inactive" },
      files: { [GRASTATE_PATH]: fixture("grastate-ctl1-killed.dat") },
      answers: { "pgrep -x mariadbd": { code: 0, stdout: "1234\n" }, "mariadb -N -B": { code: 1 } },
    });
    const { node, notes } = await collectGaleraNode(ctl1);
    expect(node.state).toBe("running");
    expect(ctl1.asked).not.toContain(RECOVER);
    expect(notes[0]).toContain("outside the mariadb unit");
  });

  it("a failed --wsrep-recover is an error naming the host, never a guessed seqno", async () => {
    const ctl2 = fakeHost("ctl2", {
      files: { [GRASTATE_PATH]: fixture("grastate-ctl2-killed.dat") },
      answers: { "pgrep -x mariadbd": { code: 1 }, [RECOVER]: { code: 1, stderr: "" } },
    });
    const error = await collectGaleraNode(ctl2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HastackError);
    expect((error as HastackError).code).toBe("E_GALERA_STATE");
    expect((error as HastackError).message).toMatch(/^Cannot read the recovered position of ctl2/);
  });

  it("a grastate.dat cut short by the power loss is an error naming the host and the file", async () => {
    const cut = fixture("grastate-ctl2-killed.dat").split("\n").slice(0, 3).join("\n");
    const ctl2 = fakeHost("ctl2", {
      files: { [GRASTATE_PATH]: cut },
      answers: { "pgrep -x mariadbd": { code: 1 } },
    });
    await expect(collectGaleraNode(ctl2)).rejects.toThrow(
      /^Cannot read \/var\/lib\/mysql\/grastate.dat on ctl2: seqno/,
    );
    expect(ctl2.asked).not.toContain(RECOVER);
  });
});
