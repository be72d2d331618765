import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCrmMon, parseFenceHistory, resourceNames } from "./crm-mon.ts";

/**
 * crm_mon and stonith_admin output captured read-only from the lab's controllers (Pacemaker
 * 3.0.0, Debian 13); `-edited` fixtures are copies of them edited to show a broken cluster
 * (fixtures/LAB-CAPTURES.md says what was changed).
 */
function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");
}
const ctl1 = { name: "ctl1" };

describe("crm_mon --output-as=xml", () => {
  it("reads a healthy 3-controller cluster: quorum, DC, nodes, resources and where they run", () => {
    const mon = parseCrmMon(ctl1, fixture("crm-mon-healthy.xml"));
    expect(mon).toMatchObject({ askedOn: "ctl1", quorum: true, dc: "ctl1", stonithEnabled: true });
    expect(mon.maintenanceMode).toBe(false);
    expect(mon.noQuorumPolicy).toBe("stop");
    expect(mon.nodes.map((n) => [n.name, n.state, n.isDc])).toEqual([
      ["ctl1", "online", true],
      ["ctl2", "online", false],
      ["ctl3", "online", false],
    ]);
    const vip = mon.resources.find((r) => r.id === "vip-internal");
    expect(vip).toMatchObject({
      agent: "ocf:heartbeat:IPaddr2",
      role: "Started",
      nodes: ["ctl3"],
      failed: false,
    });
    // A clone's instances are three resources with one node each, all under the clone's name.
    const haproxy = mon.resources.filter((r) => r.id === "haproxy");
    expect(haproxy.map((r) => r.nodes[0])).toEqual(["ctl1", "ctl2", "ctl3"]);
    expect(haproxy.every((r) => r.parent === "haproxy-clone")).toBe(true);
    expect(resourceNames(mon)).toEqual([
      "fence-ctl1",
      "fence-ctl2",
      "fence-ctl3",
      "vip-internal",
      "haproxy-clone",
    ]);
    expect(mon.failures).toEqual([]);
    expect(mon.fenceHistory).toEqual([]);
    expect(mon.bans.map((b) => [b.resource, b.node, b.weight])).toContainEqual([
      "fence-ctl3",
      "ctl3",
      -1000000,
    ]);
  });

  it("reads a node fenced by a drill: offline, and the fence history newest first", () => {
    const mon = parseCrmMon(ctl1, fixture("crm-mon-ctl2-fenced.xml"));
    expect(mon.nodes.find((n) => n.name === "ctl2")).toMatchObject({ state: "offline", resourcesRunning: 0 });
    expect(mon.quorum).toBe(true);
    expect(mon.fenceHistory).toEqual([
      {
        action: "reboot",
        target: "ctl2",
        status: "success",
        origin: "ctl1",
        delegate: "ctl1",
        client: "pacemaker-controld.312",
        completed: "2026-12-02 04:28:17.497439Z",
      },
      expect.objectContaining({
        target: "ctl3",
        status: "success",
        completed: "2026-12-02 04:23:41.949439Z",
      }),
    ]);
  });

  it("reads a node lost and not yet fenced as unclean (a drill pulled ctl3's plug)", () => {
    const mon = parseCrmMon(ctl1, fixture("crm-mon-ctl3-unclean.xml"));
    expect(mon.nodes.find((n) => n.name === "ctl3")?.state).toBe("unclean");
    expect(mon.quorum).toBe(true);
    expect(mon.fenceHistory.length).toBeGreaterThan(1);
    expect(mon.fenceHistory.every((e) => e.status === "success")).toBe(true);
  });

  it("reads a lost node, a stopped VIP, a failed action and a failed fence", () => {
    const mon = parseCrmMon(ctl1, fixture("crm-mon-ctl3-lost-fence-failed-edited.xml"));
    expect(mon.nodes.find((n) => n.name === "ctl3")?.state).toBe("unclean");
    expect(mon.resources.find((r) => r.id === "vip-internal")).toMatchObject({ role: "Stopped", nodes: [] });
    expect(mon.failures).toEqual([
      {
        op: "fence-ctl3_start_0",
        node: "ctl1",
        task: "start",
        exitCode: 1,
        exitStatus: "error",
        exitReason: "",
        status: "Timed Out",
        at: "2026-12-02 04:23:21Z",
      },
    ]);
    expect(mon.fenceHistory[0]).toMatchObject({
      status: "failed",
      exitReason: "Fencing operation timed out",
    });
  });

  it("reads stonith-enabled=false and maintenance-mode=true from the cluster options", () => {
    const mon = parseCrmMon(ctl1, fixture("crm-mon-stonith-off-maintenance-edited.xml"));
    expect(mon.stonithEnabled).toBe(false);
    expect(mon.maintenanceMode).toBe(true);
  });

  it("refuses an answer that is not crm_mon's documented shape, naming what differs", () => {
    const noOnline = fixture("crm-mon-healthy.xml").replace(' online="true"', "");
    expect(() => parseCrmMon(ctl1, noOnline)).toThrow(
      expect.objectContaining({
        code: "E_TOOL_OUTPUT",
        message: expect.stringMatching(/crm_mon.*ctl1.*online/),
      }),
    );
    const badBool = fixture("crm-mon-healthy.xml").replace('unclean="false"', 'unclean="maybe"');
    expect(() => parseCrmMon(ctl1, badBool)).toThrow(/unclean/);
    expect(() => parseCrmMon(ctl1, "crm_mon: Error: cluster is not available on this node")).toThrow(
      expect.objectContaining({ code: "E_TOOL_OUTPUT" }),
    );
    expect(() => parseCrmMon(ctl1, "<cib/>")).toThrow(/<cib> where <pacemaker-result>/);
  });
});

describe("stonith_admin --history --output-as=xml", () => {
  it("reads the fence events of one node, and an empty history", () => {
    expect(parseFenceHistory(ctl1, fixture("stonith-admin-history-ctl3.xml"))).toMatchObject([
      { target: "ctl3", action: "reboot", status: "success", delegate: "ctl1" },
    ]);
    expect(parseFenceHistory(ctl1, fixture("stonith-admin-history-empty.xml"))).toEqual([]);
    expect(() => parseFenceHistory(ctl1, fixture("crm-mon-healthy.xml"))).toThrow(/fencing history/);
  });
});
