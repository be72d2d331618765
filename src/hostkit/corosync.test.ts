import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCfgtool, parseQuorumtool } from "./corosync.ts";

/** Captured read-only from the lab's controllers (corosync 3.1.9, knet); `-edited` as LAB-CAPTURES.md says. */
function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");
}
const host = { name: "ctl1" };

describe("corosync-quorumtool -s", () => {
  it("reads votes, quorum and members of a whole 3-node cluster", () => {
    expect(parseQuorumtool(host, fixture("corosync-quorumtool-s.txt"))).toEqual({
      quorate: true,
      nodeId: 1,
      ringId: expect.stringMatching(/^1\.[0-9a-f]+$/),
      expectedVotes: 3,
      totalVotes: 3,
      quorum: 2,
      flags: ["Quorate"],
      members: [
        { nodeid: 1, votes: 1, name: "ctl1", local: true },
        { nodeid: 2, votes: 1, name: "ctl2", local: false },
        { nodeid: 3, votes: 1, name: "ctl3", local: false },
      ],
    });
  });

  it("reads the votes after a drill fenced ctl2", () => {
    const lost = parseQuorumtool(host, fixture("corosync-quorumtool-s-ctl2-fenced.txt"));
    expect(lost).toMatchObject({ quorate: true, totalVotes: 2, expectedVotes: 3, quorum: 2 });
    expect(lost.members.map((m) => m.name)).toEqual(["ctl1", "ctl3"]);
  });

  it("reads a node left alone without quorum", () => {
    const alone = parseQuorumtool(host, fixture("corosync-quorumtool-s-alone-edited.txt"));
    expect(alone).toMatchObject({ quorate: false, totalVotes: 1, expectedVotes: 3, flags: [] });
    expect(alone.members.map((m) => m.name)).toEqual(["ctl1"]);
  });

  it("refuses output without the vote lines", () => {
    const text = fixture("corosync-quorumtool-s.txt").replace(/Total votes:.*\n/, "");
    expect(() => parseQuorumtool(host, text)).toThrow(
      expect.objectContaining({ code: "E_TOOL_OUTPUT", message: expect.stringContaining("Total votes") }),
    );
  });
});

describe("corosync-cfgtool -s", () => {
  it("reads each link's state towards each node", () => {
    expect(parseCfgtool({ name: "ctl2" }, fixture("corosync-cfgtool-s.txt"))).toEqual({
      localNodeId: 2,
      links: [
        {
          id: 0,
          addr: "10.20.0.12",
          peers: [
            { nodeid: 1, status: "connected", up: true },
            { nodeid: 2, status: "localhost", up: true },
            { nodeid: 3, status: "connected", up: true },
          ],
        },
      ],
    });
  });

  it("reads the link down towards a node a drill fenced", () => {
    const { links } = parseCfgtool(host, fixture("corosync-cfgtool-s-ctl2-fenced.txt"));
    expect(links[0]?.peers.find((p) => p.nodeid === 2)).toEqual({
      nodeid: 2,
      status: "disconnected",
      up: false,
    });
  });

  it("refuses output with no link", () => {
    expect(() => parseCfgtool(host, "Could not initialize corosync configuration API error 2\n")).toThrow(
      expect.objectContaining({ code: "E_TOOL_OUTPUT" }),
    );
  });
});
