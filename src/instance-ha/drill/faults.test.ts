import { describe, expect, it } from "vitest";
import { faultPlan, type HaFaultPorts } from "./faults.ts";

/** Records what a plan asks of the injector; the lab's and IPMI's real ones run in the e2e drills. */
function recorder(withBmc: boolean, power: "on" | "off" = "off") {
  const calls: string[] = [];
  const ports: HaFaultPorts = {
    powerOff: async (h) => void calls.push(`off ${h}`),
    powerOn: async (h) => void calls.push(`on ${h}`),
    powerStatus: async () => power,
    isolate: async (h, n) => void calls.push(`cut ${h} ${n}`),
    heal: async (h) => {
      calls.push(`heal ${h}`);
      // A fenced lab host's links are gone: healing them fails, and must not stop the power-on.
      throw new Error("no such link");
    },
    ...(withBmc
      ? {
          bmcDead: async (h: string) => void calls.push(`bmc-dead ${h}`),
          bmcBack: async (h: string) => void calls.push(`bmc-back ${h}`),
        }
      : {}),
  };
  return { calls, ports };
}

describe("the compute drills' faults", () => {
  it("each fault says what the engine must do", () => {
    const { ports } = recorder(true);
    expect(faultPlan("compute-poweroff", ports).expect).toEqual({ evacuate: true, fenceMethod: "power" });
    expect(faultPlan("compute-bmc-dead", ports).expect).toEqual({ evacuate: true, fenceMethod: "storage" });
    expect(faultPlan("compute-storage-cut", ports).expect).toEqual({ evacuate: true, fenceMethod: "power" });
    expect(faultPlan("compute-management-cut", ports).expect).toEqual({ evacuate: false, hold: "alert" });
    expect(faultPlan("compute-mass-poweroff", ports, ["cmp2"], 2).expect).toEqual({
      evacuate: false,
      hold: "valve",
    });
  });

  it("cuts the one network, and restores by healing and powering on a host the fence left off", async () => {
    const { calls, ports } = recorder(false);
    const plan = faultPlan("compute-storage-cut", ports);
    expect(await plan.inject("cmp1")).toMatch(/cmp1 cut off the storage network/);
    await plan.restore("cmp1");
    expect(calls).toEqual(["cut cmp1 storage", "heal cmp1", "on cmp1"]);
  });

  it("leaves a host that is on powered on (a management cut is healed, not power cycled)", async () => {
    const { calls, ports } = recorder(false, "on");
    const plan = faultPlan("compute-management-cut", ports);
    await plan.inject("cmp1");
    await plan.restore("cmp1");
    expect(calls).toEqual(["cut cmp1 management", "heal cmp1"]);
  });

  it("kills the BMC with the host, and brings the BMC back before the power-on that needs it", async () => {
    const { calls, ports } = recorder(true);
    const plan = faultPlan("compute-bmc-dead", ports);
    await plan.inject("cmp2");
    await plan.restore("cmp2");
    expect(calls).toEqual(["bmc-dead cmp2", "bmc-back cmp2", "heal cmp2", "on cmp2"]);
  });

  it("refuses the BMC drill where no BMC can be killed (real hosts), naming the drill", () => {
    const { ports } = recorder(false);
    expect(() => faultPlan("compute-bmc-dead", ports)).toThrow(/Cannot run compute-bmc-dead: only the lab/);
  });

  it("powers several computes off at once, and each on again", async () => {
    const { calls, ports } = recorder(false);
    const plan = faultPlan("compute-mass-poweroff", ports, ["cmp2", "cmp3", "cmp4"], 3);
    expect(plan.hosts("cmp1")).toEqual(["cmp1", "cmp2", "cmp3"]);
    expect(await plan.inject("cmp1")).toBe("cmp1, cmp2, cmp3 powered off at once through their BMCs");
    expect(calls.sort()).toEqual(["off cmp1", "off cmp2", "off cmp3"]);
    calls.length = 0;
    await plan.restore("cmp1");
    expect(calls.filter((c) => c.startsWith("on ")).sort()).toEqual(["on cmp1", "on cmp2", "on cmp3"]);
  });

  it("refuses a mass power-off the site has not the computes for", () => {
    const { ports } = recorder(false);
    expect(() => faultPlan("compute-mass-poweroff", ports, ["cmp2"], 3)).toThrow(
      /Cannot run compute-mass-poweroff with 3 computes: the site has 2/,
    );
  });

  it("engine-killed: the plug, then the engine killed midway; the ban lifted before the power-on", async () => {
    const { calls, ports } = recorder(false);
    const plan = faultPlan("engine-killed", {
      ...ports,
      killEngine: async () => {
        calls.push("kill engine");
        return { node: "ctl2", undo: async () => void calls.push("unban ctl2") };
      },
    });
    expect(plan.expect).toEqual({ evacuate: true, fenceMethod: "power" });
    await plan.inject("cmp1");
    expect(await plan.midway?.("cmp1")).toMatch(
      /the active engine on ctl2 killed \(SIGKILL\) mid-evacuation/,
    );
    await plan.restore("cmp1");
    expect(calls).toEqual(["off cmp1", "kill engine", "unban ctl2", "heal cmp1", "on cmp1"]);
    expect(() => faultPlan("engine-killed", ports)).toThrow(
      /Cannot run engine-killed: nothing here can kill/,
    );
  });
});
