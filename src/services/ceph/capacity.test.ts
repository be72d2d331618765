import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { capacityVerdict } from "./capacity.ts";
import { Df, OsdDf, OsdDump } from "./schemas.ts";

/**
 * `ceph df` and `ceph osd df` as the lab's three-OSD Ceph 18.2.7 printed them (lab-*.json), and
 * copies edited to the warning cases, named so: osd.2 at 78% of its 8 GiB, the volumes pool at
 * 80% of its room. The ratios come from the captured one-host `ceph osd dump` (Ceph's defaults:
 * nearfull 0.85, backfillfull 0.90, full 0.95).
 */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"));
}

const df = Df.parse(fixture("lab-df"));
const osdDf = OsdDf.parse(fixture("lab-osd-df"));
const dump = OsdDump.parse(fixture("osd-dump"));

describe("the capacity probe", () => {
  it("reads ceph osd df's utilization as a percentage, and a nearly empty cluster is ok", () => {
    expect(osdDf.nodes.map((o) => [o.name, o.utilization])).toEqual([
      ["osd.0", 0.32873153686523438],
      ["osd.1", 0.32873153686523438],
      ["osd.2", 0.32873153686523438],
    ]);
    const v = capacityVerdict(df, osdDf, dump, 0.75);
    expect(v.state).toBe("ok");
    expect(v.summary).toMatch(
      /^raw 0\.3% used of 24\.0 GiB, fullest osd\.0 0\.3% \(warn 75\.0%, nearfull 85\.0%, full 95\.0%\); images 0\.0 GiB/,
    );
    expect(v.summary).not.toContain("to do");
  });

  it("warns about one OSD at 78% before Ceph's nearfull, while the cluster as a whole is far from it", () => {
    const edited = OsdDf.parse(fixture("lab-osd-df-edited-osd.2-at-78pct"));
    const v = capacityVerdict(df, edited, dump, 0.75);
    expect(v.state).toBe("degraded");
    expect(v.summary).toContain("osd.2 78.0% (warns at 75.0%)");
    expect(v.summary).toContain("to do: add OSDs or storage hosts");
    expect(v.summary).toContain("ceph osd reweight-by-utilization");
    // The threshold is the inventory's: at 80% the same OSD is not worth a warning yet.
    expect(capacityVerdict(df, edited, dump, 0.8).state).toBe("ok");
  });

  it("warns about a pool that used 80% of its room, saying what to do", () => {
    const edited = Df.parse(fixture("lab-df-edited-volumes-at-80pct"));
    const v = capacityVerdict(edited, osdDf, dump, 0.75);
    expect(v.state).toBe("degraded");
    expect(v.summary).toContain("pool volumes 80.0% (warns at 75.0%)");
    expect(v.summary).toContain("delete unused images, volumes and snapshots through OpenStack");
    expect(v.summary).not.toContain("reweight");
  });

  it("says NEARFULL at Ceph's nearfull ratio and FULL (down: writes blocked) at its full ratio", () => {
    const near = OsdDf.parse(fixture("lab-osd-df-edited-osd.2-at-78pct"));
    const osd2 = near.nodes.find((o) => o.name === "osd.2");
    if (!osd2) throw new Error("no osd.2 in the fixture");
    osd2.utilization = 86;
    expect(capacityVerdict(df, near, dump, 0.75)).toMatchObject({ state: "degraded" });
    expect(capacityVerdict(df, near, dump, 0.75).summary).toContain("osd.2 86.0% NEARFULL");
    osd2.utilization = 95.5;
    const full = capacityVerdict(df, near, dump, 0.75);
    expect(full.state).toBe("down");
    expect(full.summary).toContain("osd.2 95.5% FULL: writes blocked");
    expect(full.summary).toContain("to do: writes are blocked: free space now");
  });
});
