import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMemberList } from "../../hostkit/etcd.ts";
import { LocalTransport } from "../../transport/local-transport.ts";
import { hasMemberData, rejoinAction } from "./rejoin.ts";

const url = (n: number) => `http://10.20.0.1${n}:2380`;
const member = (id: string, name: string, n: number) => ({ ID: id, name, peerURLs: [url(n)] });

describe("rejoinAction: what a controller without etcd data does", () => {
  it("starts with the others when no cluster answers (a first deploy)", () => {
    expect(rejoinAction([], url(3))).toEqual({
      kind: "none",
      why: "no cluster answers yet (a first deploy)",
    });
  });

  it("replaces the old member at its peer URL when the cluster lists it by name (its data is gone)", () => {
    const members = [member("1", "ctl1", 1), member("2", "ctl2", 2), member("3", "ctl3", 3)];
    expect(rejoinAction(members, url(3))).toEqual({ kind: "replace", staleId: "3", staleName: "ctl3" });
  });

  it("starts an added member that never started (no name yet) without adding another", () => {
    const members = [member("1", "ctl1", 1), member("2", "ctl2", 2), member("9", "", 3)];
    expect(rejoinAction(members, url(3))).toEqual({ kind: "start-added", id: "9" });
  });

  it("adds itself when the cluster does not list its peer URL (removed, or never added)", () => {
    expect(rejoinAction([member("1", "ctl1", 1), member("2", "ctl2", 2)], url(3))).toEqual({ kind: "add" });
  });

  it("reads peerURLs and the nameless unstarted member from etcdctl's JSON, ids exact", () => {
    const text = JSON.stringify({
      header: { cluster_id: 1, member_id: 2 },
      members: [
        { ID: 1, name: "ctl1", peerURLs: [url(1)], clientURLs: ["http://10.20.0.11:2379"] },
        { ID: 2, peerURLs: [url(3)] },
      ],
    })
      .replace('"ID":1,', '"ID":12345678901234567890,')
      .replace('"ID":2,', '"ID":9876543210987654321,');
    const members = parseMemberList({ name: "ctl1" } as never, text);
    expect(members.map((m) => [m.ID, m.name, m.peerURLs])).toEqual([
      ["12345678901234567890", "ctl1", [url(1)]],
      ["9876543210987654321", "", [url(3)]],
    ]);
    expect(rejoinAction(members, url(3))).toEqual({ kind: "start-added", id: "9876543210987654321" });
  });
});

describe("hasMemberData: a stopped member keeps its data, and must not be replaced", () => {
  it("sees the member directory (a directory, which Transport.stat took for missing)", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "hastack-etcd-")), "member");
    const t = new LocalTransport();
    expect(await hasMemberData(t, dir)).toBe(false);
    mkdirSync(dir);
    expect(await hasMemberData(t, dir)).toBe(true);
    expect((await t.stat([dir])).get(dir)).toBeUndefined();
  });
});
