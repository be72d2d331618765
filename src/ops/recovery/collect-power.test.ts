import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCrmMon } from "../../hostkit/crm-mon.ts";
import { exampleTopology } from "../../testing/fixtures.ts";
import { HastackError } from "../../util/errors.ts";
import { collectPower, judgeFence } from "./collect-power.ts";
import { fakeHost, hosts } from "./fixtures/fake-host.ts";
import { absence } from "./types.ts";

/**
 * The power collector against a fake Transport (the boundary): Pacemaker's answers are the lab
 * captures of src/hostkit/fixtures (LAB-CAPTURES.md); ipmitool's is its one-line answer.
 */
function hostkitFixture(name: string): string {
  return readFileSync(new URL(`../../hostkit/fixtures/${name}`, import.meta.url), "utf8");
}

const topology = exampleTopology("lab");
const ctl3 = topology.hosts.find((h) => h.name === "ctl3");
if (!ctl3?.bmc) throw new Error("the lab inventory gives ctl3 a BMC");
const PASSWORD = "Bmc-Secret-ctl3";
const secret = (name: string) => (name === ctl3.bmc?.password_secret ? PASSWORD : undefined);
const timeout = () => new HastackError("E_COMMAND_TIMEOUT", "Command timed out after 20000 ms on ctl1");

/** A survivor whose Pacemaker answers with the captures taken while ctl3's plug was pulled. */
function survivor(name: string, bmc: { stdout?: string; error?: HastackError; code?: number }) {
  return fakeHost(name, {
    answers: {
      ipmitool: bmc,
      "stonith_admin --history ctl3": { stdout: hostkitFixture("stonith-admin-history-ctl3.xml") },
      crm_mon: { stdout: hostkitFixture("crm-mon-ctl3-unclean.xml") },
    },
  });
}

describe("collectPower", () => {
  it("asks the BMC from a reachable controller, with the password on stdin only", async () => {
    const ctl1 = survivor("ctl1", { stdout: "Chassis Power is off\n" });
    const { power } = await collectPower({
      missing: [ctl3],
      reachable: ["ctl1", "ctl2"],
      transport: hosts(ctl1),
      secret,
    });
    expect(power.ctl3?.power).toBe("off");
    expect(absence(power.ctl3)).toBe("confirmed-off");
    const ipmi = ctl1.asked.find((a) => a.includes("ipmitool")) ?? "";
    expect(ipmi).toContain(`-H ${ctl3.bmc?.address}`);
    expect(ipmi).not.toContain(PASSWORD);
    expect(ctl1.stdins).toEqual([`${PASSWORD}\n`]);
  });

  it("a BMC that does not answer, from either survivor: power unknown, each failure noted", async () => {
    const ctl1 = survivor("ctl1", { error: timeout() });
    const ctl2 = survivor("ctl2", { error: timeout() });
    const { power, notes } = await collectPower({
      missing: [ctl3],
      reachable: ["ctl1", "ctl2"],
      transport: hosts(ctl1, ctl2),
      secret,
    });
    expect(ctl2.asked.some((a) => a.includes("ipmitool"))).toBe(true);
    // The capture holds an old successful fence of ctl3, yet Pacemaker lists it unclean: lost
    // again since, and not fenced. The stale success proves nothing.
    expect(power.ctl3).toEqual({ power: "unknown", fenced: false });
    expect(absence(power.ctl3)).toBe("unknown");
    expect(notes).toEqual([
      `ctl3: BMC ${ctl3.bmc?.address} did not answer on port ${ctl3.bmc?.port} (unreachable or timed out) (asked from ctl1)`,
      `ctl3: BMC ${ctl3.bmc?.address} did not answer on port ${ctl3.bmc?.port} (unreachable or timed out) (asked from ctl2)`,
      "ctl3: Pacemaker lists it as unclean (lost, not fenced since)",
    ]);
    expect(JSON.stringify(notes)).not.toContain(PASSWORD);
  });

  it("without a reachable controller or a password, nothing is asked and the power is unknown", async () => {
    const none = await collectPower({ missing: [ctl3], reachable: [], transport: hosts(), secret });
    expect(none.power.ctl3).toEqual({ power: "unknown", fenced: false });
    expect(none.notes[0]).toBe("ctl3: no reachable controller to ask its BMC or Pacemaker");
    const ctl1 = survivor("ctl1", { stdout: "Chassis Power is off\n" });
    const nopass = await collectPower({
      missing: [ctl3],
      reachable: ["ctl1"],
      transport: hosts(ctl1),
      secret: () => undefined,
    });
    expect(nopass.power.ctl3?.power).toBe("unknown");
    expect(nopass.notes[0]).toContain("the secret bmc_ctl3 is missing");
    expect(ctl1.asked.some((a) => a.includes("ipmitool"))).toBe(false);
  });
});

describe("judgeFence", () => {
  it("a node fenced and offline (clean) is fenced: the newest fence of it succeeded", () => {
    const mon = parseCrmMon({ name: "ctl1" }, hostkitFixture("crm-mon-ctl2-fenced.xml"));
    const state = mon.nodes.find((n) => n.name === "ctl2")?.state;
    const events = mon.fenceHistory.filter((e) => e.target === "ctl2");
    expect(state).toBe("offline");
    expect(judgeFence("ctl2", state, events, [])).toBe(true);
  });

  it("a failed or pending newest fence, or no fence at all, is not", () => {
    const success = {
      action: "reboot",
      target: "ctl3",
      origin: "ctl1",
      client: "c",
      status: "success",
    } as const;
    const old = { ...success, completed: "2026-12-02 04:23:41.949439Z" };
    const failed = { ...success, status: "failed", completed: "2026-12-02 05:00:00.000000Z" } as const;
    const notes: string[] = [];
    expect(judgeFence("ctl3", "offline", [old, failed], notes)).toBe(false);
    expect(notes[0]).toContain("failed");
    expect(judgeFence("ctl3", "offline", [old, { ...success, status: "pending" }], [])).toBe(false);
    expect(judgeFence("ctl3", "offline", [], [])).toBe(false);
    expect(judgeFence("ctl3", "offline", [failed, old].toReversed(), [])).toBe(false);
  });
});
