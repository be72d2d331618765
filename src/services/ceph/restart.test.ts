import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDaemonAges, staleDaemons, unitOf } from "./restart.ts";

/**
 * What the restart step's script printed on the lab's sto1 (Ceph 18.2.7 under systemd): when
 * ceph.conf was written, and each daemon's start time and command line.
 */
const captured = readFileSync(new URL("./fixtures/lab-daemon-ages-sto1.txt", import.meta.url), "utf8");

describe("which Ceph daemons run an older ceph.conf", () => {
  it("reads systemd's --id and a hand-started daemon's -i, and finds none stale after a deploy", () => {
    const ages = parseDaemonAges("sto1", captured);
    expect(ages).toEqual({
      confWrittenS: 1796185072,
      daemons: [
        { kind: "mon", id: "sto1", startedS: 1796185095 },
        { kind: "mgr", id: "sto1", startedS: 1796185101 },
        { kind: "osd", id: "0", startedS: 1796185111 },
      ],
    });
    expect(staleDaemons(ages)).toEqual([]);
    const byHand = parseDaemonAges(
      "box",
      "conf 100\ndaemon 90 ceph-osd -i 12 --setuser ceph --setgroup ceph \n",
    );
    expect(byHand.daemons).toEqual([{ kind: "osd", id: "12", startedS: 90 }]);
  });

  it("after ceph.conf is written again (edited: conf time moved past the daemons'), all of them, monitors first", () => {
    const edited = captured.replace("conf 1796185072", "conf 1796185105");
    const stale = staleDaemons(parseDaemonAges("sto1", edited));
    // The OSD started after the new write: it already runs the new file.
    expect(stale.map(unitOf)).toEqual(["ceph-mon@sto1", "ceph-mgr@sto1"]);
    const later = captured.replace("conf 1796185072", "conf 1796185200");
    expect(staleDaemons(parseDaemonAges("sto1", later)).map(unitOf)).toEqual([
      "ceph-mon@sto1",
      "ceph-mgr@sto1",
      "ceph-osd@0",
    ]);
  });

  it("refuses output it does not understand instead of restarting nothing", () => {
    expect(() => parseDaemonAges("sto1", "stat: cannot statx '/etc/ceph/ceph.conf'")).toThrow(
      /Cannot read the Ceph daemons of sto1: unexpected line/,
    );
    expect(() => parseDaemonAges("sto1", "")).toThrow(/no \/etc\/ceph\/ceph.conf/);
  });
});
