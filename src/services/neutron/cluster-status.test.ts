import { describe, expect, it } from "vitest";
import { clusterProblems, parseClusterStatus } from "./cluster-status.ts";
import { fixture, labClusterStatus } from "./test-fixtures.ts";

const t = { name: "ctl1" };
const parse = (text: string) => parseClusterStatus(t, "cluster/status", text);
const LAB = ["tcp:10.20.0.11:6643", "tcp:10.20.0.12:6643", "tcp:10.20.0.13:6643"];

describe("ovn-appctl cluster/status", () => {
  it("reads a leader: its role, itself as leader, every member with its address", () => {
    const s = parse(fixture("raft-leader.txt"));
    expect(s).toMatchObject({
      name: "OVN_Northbound",
      status: "cluster member",
      role: "leader",
      leader: "self",
    });
    expect(s.address).toBe("tcp:127.0.0.1:16643");
    expect(s.servers).toEqual([
      { sid: "fc22", address: "tcp:127.0.0.1:16663", self: false },
      { sid: "1ca1", address: "tcp:127.0.0.1:16653", self: false },
      { sid: "0f67", address: "tcp:127.0.0.1:16643", self: true },
    ]);
  });

  it("reads a follower (the leader by short id) and a server still joining (no members, no leader)", () => {
    expect(parse(fixture("raft-follower.txt"))).toMatchObject({ role: "follower", leader: "0f67" });
    const joining = parse(fixture("raft-joining.txt"));
    expect(joining).toMatchObject({ status: "joining cluster", leader: "unknown", servers: [] });
    expect(clusterProblems(joining, LAB)).toEqual([
      "status: joining cluster",
      "no leader",
      `not members: ${LAB.join(", ")}`,
    ]);
  });

  it("a cluster made by ovn-ctl with the rendered options has every lab controller and a leader", () => {
    for (const name of ["ovn-ctl-leader.txt", "ovn-ctl-follower.txt"] as const) {
      const s = parse(labClusterStatus(name, "nb"));
      expect(clusterProblems(s, LAB), name).toEqual([]);
    }
    const sb = parse(labClusterStatus("ovn-ctl-follower.txt", "sb"));
    expect(sb.name).toBe("OVN_Southbound");
    expect(
      clusterProblems(
        sb,
        LAB.map((a) => a.replace(":6643", ":6644")),
      ),
    ).toEqual([]);
  });

  it("a member that died stays a member; a server without quorum says so and has no leader", () => {
    const oneDown = parse(fixture("raft-one-down.txt"));
    expect(oneDown).toMatchObject({ role: "leader", leader: "self" });
    expect(oneDown.servers).toHaveLength(3);
    const lost = parse(fixture("raft-no-quorum.txt"));
    expect(lost).toMatchObject({ role: "candidate", leader: "unknown" });
    expect(
      clusterProblems(
        lost,
        lost.servers.map((s) => s.address),
      ),
    ).toEqual(["status: disconnected from the cluster (election timeout)", "no leader"]);
  });

  it("names members the inventory lacks, and refuses an answer without the fields it documents", () => {
    const s = parse(fixture("raft-leader.txt"));
    expect(clusterProblems(s, ["tcp:127.0.0.1:16643", "tcp:127.0.0.1:16653"])).toEqual([
      "members not in the inventory: tcp:127.0.0.1:16663",
    ]);
    expect(() => parse("0f67\nName: OVN_Northbound\n")).toThrow(
      /Cannot read cluster\/status's answer on ctl1/,
    );
  });

  it("names an address two servers share: an old server of a reinstalled controller left behind", () => {
    // The leader fixture with the stale server's line as a cluster that was joined without a
    // kick lists it: a fourth server at an address already a member's.
    const text = fixture("raft-leader.txt").replace(
      /^(\s+fc22 \(fc22 at tcp:127\.0\.0\.1:16663\).*)$/m,
      "$1\n    ab12 (ab12 at tcp:127.0.0.1:16663) next_index=2 match_index=0",
    );
    const s = parse(text);
    expect(s.servers).toHaveLength(4);
    expect(clusterProblems(s, ["tcp:127.0.0.1:16643", "tcp:127.0.0.1:16653", "tcp:127.0.0.1:16663"])).toEqual(
      ["several servers at tcp:127.0.0.1:16663 (an old one left behind)"],
    );
  });
});
