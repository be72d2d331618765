import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ProbeContext, ProbeSpec } from "../../health/types.ts";
import { parseCfgtool, parseQuorumtool } from "../../hostkit/corosync.ts";
import type { InventoryInput } from "../../inventory/schema.ts";
import { exampleTopology } from "../../testing/fixtures.ts";
import type { ExecResult } from "../../transport/types.ts";
import { judgeCorosync } from "./corosync-probe.ts";
import { pacemakerHealth } from "./health.ts";

/** Captured read-only from the lab's controllers; `-edited` copies show a broken cluster (LAB-CAPTURES.md). */
function fixture(name: string): string {
  return readFileSync(new URL(`../../hostkit/fixtures/${name}`, import.meta.url), "utf8");
}
const names = new Map([
  [1, "ctl1"],
  [2, "ctl2"],
  [3, "ctl3"],
]);

function probe(
  id: string,
  edit?: (inv: InventoryInput) => void,
): { spec: ProbeSpec; topology: ReturnType<typeof exampleTopology> } {
  const topology = exampleTopology("lab", edit);
  const spec = pacemakerHealth(topology).find((p) => p.id === id);
  if (!spec) throw new Error(`no probe ${id}`);
  return { spec, topology };
}

function answering(topology: ProbeContext["topology"], crmMon: string): ProbeContext {
  const exec = async (): Promise<ExecResult> => ({
    code: 0,
    stdout: fixture(crmMon),
    stderr: "",
    durationMs: 1,
  });
  return { topology, exec, signal: new AbortController().signal } as unknown as ProbeContext;
}

describe("pacemaker.cluster over captured crm_mon", () => {
  it("is ok on the healthy lab, and names a lost node, a stopped VIP and a failed fence", async () => {
    const { spec, topology } = probe("cluster");
    expect((await spec.run(answering(topology, "crm-mon-healthy.xml"))).state).toBe("ok");
    const lost = await spec.run(answering(topology, "crm-mon-ctl3-lost-fence-failed-edited.xml"));
    expect(lost.state).toBe("degraded");
    expect(lost.summary).toContain("ctl3 unclean");
    expect(lost.summary).toContain("vip-internal stopped");
    expect(lost.summary).toContain("fence reboot of ctl3 failed (Fencing operation timed out)");
    const fenced = await spec.run(answering(topology, "crm-mon-ctl2-fenced.xml"));
    expect(fenced.state).toBe("degraded");
    expect(fenced.summary).toContain("ctl2 offline");
    expect(fenced.summary).toContain("last fence: reboot ctl2 success");
  });

  it("flags stonith-enabled=false set by hand on the live cluster (E17) and maintenance-mode", async () => {
    const { spec, topology } = probe("cluster");
    const result = await spec.run(answering(topology, "crm-mon-stonith-off-maintenance-edited.xml"));
    expect(result.state).toBe("degraded");
    expect(result.summary).toContain(
      "stonith-enabled=false on the live cluster while the inventory has fencing on",
    );
    expect(result.summary).toContain("maintenance-mode=true");
  });
});

describe("pacemaker.fencing with fencing waived", () => {
  it("warns on every run, with the waiver's reason, without making status degraded", async () => {
    const { spec, topology } = probe("fencing", (inv) => {
      inv.services = { ...inv.services, pacemaker: { fencing: false } };
      inv.waivers = { fencing: "a lab without BMCs, never production" };
    });
    const result = await spec.run({ topology } as unknown as ProbeContext);
    expect(result.state).toBe("ok");
    expect(result.warnings).toEqual([
      expect.stringContaining("fencing is off (waived: a lab without BMCs, never production)"),
    ]);
  });
});

describe("pacemaker.corosync over captured corosync-quorumtool and corosync-cfgtool", () => {
  const whole = parseQuorumtool({ name: "ctl1" }, fixture("corosync-quorumtool-s.txt"));
  const links = parseCfgtool({ name: "ctl2" }, fixture("corosync-cfgtool-s.txt")).links;

  it("is ok with 3/3 votes and every link connected", () => {
    const r = judgeCorosync(whole, links, names);
    expect(r).toMatchObject({ state: "ok" });
    expect(r.summary).toContain("3/3 votes (quorum 2)");
  });

  it("names the node a drill fenced, its link down, and what one more loss would mean", () => {
    const lost = parseQuorumtool({ name: "ctl1" }, fixture("corosync-quorumtool-s-ctl2-fenced.txt"));
    const down = parseCfgtool({ name: "ctl1" }, fixture("corosync-cfgtool-s-ctl2-fenced.txt")).links;
    const r = judgeCorosync(lost, down, names);
    expect(r.state).toBe("degraded");
    expect(r.summary).toContain("not members: ctl2");
    expect(r.summary).toContain("2 of 3 votes: the loss of one more node stops the cluster");
    expect(r.summary).toContain("link 0 (10.20.0.11) to ctl2 disconnected: no link reaches it");
  });

  it("is down on a node without quorum", () => {
    const alone = parseQuorumtool({ name: "ctl1" }, fixture("corosync-quorumtool-s-alone-edited.txt"));
    expect(judgeCorosync(alone, links, names).state).toBe("down");
  });
});
