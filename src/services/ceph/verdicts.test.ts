import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AuthDump, CrushRules, MgrDump, OsdDump, OsdTree, QuorumStatus, Status } from "./schemas.ts";
import { osdsByHost, pgVerdict } from "./verdicts.ts";

/**
 * Answers of a real Ceph 18.2.7 (the one-host cluster of real-tools.test.ts, captured with
 * HASTACK_CAPTURE_CEPH_JSON): keys replaced by a fake, mgr dump's 100 KB of module option docs
 * cut to module names. Unhealthy variants are these answers edited, as each test says.
 */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"));
}

describe("Ceph's JSON answers, parsed", () => {
  it("reads status, quorum, managers, OSD map, rules and users as Ceph 18 prints them", () => {
    const st = Status.parse(fixture("status"));
    expect(st.quorum_names).toEqual(["sto1"]);
    expect(st.pgmap.pgs_by_state).toEqual([{ state_name: "active+clean", count: 129 }]);
    expect(Object.keys(st.health.checks)).toEqual(["POOL_NO_REDUNDANCY"]);
    expect(QuorumStatus.parse(fixture("quorum-status")).quorum_leader_name).toBe("sto1");
    const mgr = MgrDump.parse(fixture("mgr-dump"));
    expect([mgr.available, mgr.active_name, mgr.standbys]).toEqual([true, "sto1", []]);
    const dump = OsdDump.parse(fixture("osd-dump"));
    expect(
      dump.pools.map((p) => [p.pool_name, p.size, p.pg_num, Object.keys(p.application_metadata)]),
    ).toEqual([
      [".mgr", 1, 1, ["mgr"]],
      ["images", 1, 32, ["rbd"]],
      ["volumes", 1, 32, ["rbd"]],
      ["vms", 1, 32, ["rbd"]],
      ["backups", 1, 32, ["rbd"]],
    ]);
    // Ceph stores ratios as floats: 0.95 comes back as 0.949999988.
    expect(dump.full_ratio).toBeCloseTo(0.95, 6);
    const rules = CrushRules.parse(fixture("crush-rule-dump"));
    expect(rules.map((r) => r.rule_name)).toContain("hastack_replicated_osd");
    const users = AuthDump.parse(fixture("auth-ls")).auth_dump;
    expect(users.find((u) => u.entity === "client.glance")?.caps).toEqual({
      mgr: "profile rbd pool=images",
      mon: "profile rbd",
      osd: "profile rbd pool=images",
    });
  });

  it("puts OSDs under their hosts, up and in; an out OSD (reweight 0) and a down one are told apart", () => {
    const tree = OsdTree.parse(fixture("osd-tree"));
    expect(osdsByHost(tree)).toEqual([{ host: "sto1", osds: [{ name: "osd.0", up: true, in: true }] }]);
    const down = structuredClone(tree);
    for (const n of down.nodes) if (n.type === "osd") Object.assign(n, { status: "down", reweight: 0 });
    expect(osdsByHost(down)[0]?.osds).toEqual([{ name: "osd.0", up: false, in: false }]);
  });

  it("weighs Ceph's health and names every PG state that is not active+clean, with its meaning", () => {
    const st = Status.parse(fixture("status"));
    // The captured one-copy cluster warns about itself: not green, and it says why.
    expect(pgVerdict(st)).toMatchObject({
      state: "degraded",
      summary:
        "HEALTH_WARN, 129 PGs active+clean; no slow ops; POOL_NO_REDUNDANCY: 5 pool(s) have no replicas configured",
    });
    const ok = structuredClone(st);
    ok.health = { status: "HEALTH_OK", checks: {} };
    expect(pgVerdict(ok).state).toBe("ok");
    // A storage host lost (edited): degraded PGs still serve, peered ones do not.
    const lost = structuredClone(ok);
    lost.health = {
      status: "HEALTH_WARN",
      checks: {
        SLOW_OPS: {
          severity: "HEALTH_WARN",
          summary: { message: "3 slow ops, oldest one blocked for 31 sec" },
        },
      },
    };
    lost.pgmap.pgs_by_state = [
      { state_name: "active+undersized+degraded", count: 120 },
      { state_name: "undersized+degraded+peered", count: 9 },
    ];
    const v = pgVerdict(lost);
    expect(v.state).toBe("down");
    expect(v.summary).toContain("120 active+undersized+degraded (undersized: fewer OSDs in its acting set");
    expect(v.summary).toContain("9 undersized+degraded+peered (inactive: cannot serve I/O;");
    expect(v.summary).toContain("slow ops: 3 slow ops, oldest one blocked for 31 sec");
  });

  it("rejects an answer missing what hastack reads, instead of reading undefined", () => {
    const broken = fixture("status") as Record<string, unknown>;
    delete broken.pgmap;
    expect(Status.safeParse(broken).success).toBe(false);
  });
});
