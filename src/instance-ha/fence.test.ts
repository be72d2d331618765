import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BmcEndpoint, ipmiLocal } from "../hostkit/ipmi.ts";
import { freeUdpPort, type IpmiSim, startIpmiSim } from "../hostkit/ipmi-sim-fixture.ts";
import type { ExecResult } from "../transport/types.ts";
import { type FenceDeps, type FenceTarget, fenceEvent, fenceHost } from "./fence.ts";
import { localIpmi } from "./power-fence.ts";
import type { StorageFenceDeps } from "./storage-fence.ts";

/**
 * The power fence against real BMCs: OpenIPMI's ipmi_sim on loopback (what the lab runs), through
 * the real ipmitool. A switchable chassis goes off 1.5 s after it is told (reads before that still
 * say on), an always-on one takes the off and never carries it out. The storage fence with a real
 * Ceph is in storage-fence.test.ts; here the `ceph` runner only records that it was not called,
 * since none of these cases may reach it.
 */
// IPMI 2.0 passwords are at most 20 bytes.
const PASSWORD = "bmc-Fence-Sec-9931";
const OFF_DELAY_MS = 1_500;
let stuck: IpmiSim;
const sims: IpmiSim[] = [];

beforeAll(async () => {
  stuck = await startIpmiSim(PASSWORD);
  sims.push(stuck);
});

afterAll(async () => {
  for (const s of sims) await s.stop();
});

async function switchable(): Promise<IpmiSim> {
  const sim = await startIpmiSim(PASSWORD, { chassis: "switchable", offDelayMs: OFF_DELAY_MS });
  sims.push(sim);
  return sim;
}

/** A `ceph` runner that records its calls: the tests below assert it was never called. */
function recordingCeph(): StorageFenceDeps & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    runner: {
      name: "ctl1",
      exec: async (argv): Promise<ExecResult> => {
        calls.push(Array.isArray(argv) ? argv : [argv]);
        return { code: 1, stdout: "", stderr: "not expected", durationMs: 0 };
      },
    },
  };
}

function deps(password: string | undefined, storage?: StorageFenceDeps): FenceDeps {
  return {
    ipmi: localIpmi,
    bmcPassword: () => password,
    ...(storage ? { storage } : {}),
    power: { confirmMs: 4_000, pollMs: 250 },
  };
}

function target(bmc: BmcEndpoint | undefined, storageAddresses: string[] = ["10.21.0.41"]): FenceTarget {
  return { host: "cmp1", ...(bmc ? { bmc } : {}), storageAddresses };
}

async function powerOf(bmc: BmcEndpoint) {
  const r = await ipmiLocal(bmc, PASSWORD, ["chassis", "power", "status"]);
  return r.ok ? r.power : `no answer: ${r.failure}`;
}

describe("the power fence against a real BMC (ipmi_sim)", () => {
  it("powers the host off and reports it fenced only once a read-back says off", async () => {
    const sim = await switchable();
    const ceph = recordingCeph();
    const result = await fenceHost(target(sim.bmc), deps(PASSWORD, ceph));
    expect(result).toMatchObject({ ok: true, method: "power" });
    expect(result.detail).toMatch(/^cmp1 fenced: BMC 127\.0\.0\.1:\d+ reports power off after/);
    // The chassis went off 1.5 s after the command: the fence waited for the read-back.
    expect(result.ms).toBeGreaterThanOrEqual(OFF_DELAY_MS);
    expect(result.attempts.some((l) => /power status cmp1: power on \(read 1,/.test(l))).toBe(true);
    expect(result.attempts.at(-1)).toMatch(/power status cmp1: power off \(read \d+,/);
    // Asked again, on its own: the BMC says off.
    expect(await powerOf(sim.bmc)).toBe("off");
    expect(ceph.calls).toEqual([]);
    expect(fenceEvent(result)).toEqual({ kind: "fence-confirmed", method: "power" });
  });

  it("does not count a BMC that takes the off but keeps the power on, and leaves Ceph alone", async () => {
    const ceph = recordingCeph();
    const result = await fenceHost(target(stuck.bmc), deps(PASSWORD, ceph));
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      /^Cannot fence cmp1: not powered off: BMC 127\.0\.0\.1:\d+ took the off command, but the power is not off after 4\.0 s \(power on\); nothing was evacuated$/,
    );
    expect(result.attempts.at(-1)).toMatch(/not off within 4\.0 s \(\d+ reads\), last: power on/);
    expect(await powerOf(stuck.bmc)).toBe("on");
    expect(ceph.calls).toEqual([]);
    expect(fenceEvent(result)).toMatchObject({ kind: "fence-failed" });
  });

  it("names the host and the refused password, never the password itself, and fences nothing", async () => {
    const sim = await switchable();
    const wrong = "Wrong-Pass-5512";
    const ceph = recordingCeph();
    const result = await fenceHost(target(sim.bmc), deps(wrong, ceph));
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      /^Cannot fence cmp1: not powered off: power off: BMC .* refused the password of user admin/,
    );
    const everything = JSON.stringify(result);
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);
    expect(await powerOf(sim.bmc)).toBe("on");
    expect(ceph.calls).toEqual([]);
  });

  it("without a password in the secrets, tries nothing at all", async () => {
    const ceph = recordingCeph();
    const result = await fenceHost(target(stuck.bmc), deps(undefined, ceph));
    expect(result).toMatchObject({ ok: false, detail: expect.stringMatching(/no password for its BMC/) });
    expect(ceph.calls).toEqual([]);
  });
});

describe("a BMC that does not answer", () => {
  it("with the storage fence off: not fenced, and the detail says both why", async () => {
    const silent = { ...stuck.bmc, port: await freeUdpPort() };
    const result = await fenceHost(target(silent), deps(PASSWORD));
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      /^Cannot fence cmp1: BMC 127\.0\.0\.1:\d+ did not answer on port \d+ \(unreachable or timed out\), and the storage fence is off; nothing was evacuated$/,
    );
    expect(result.attempts[0]).toMatch(/^power off cmp1: BMC .* did not answer/);
  });

  it("with the storage fence on but no storage address: not fenced, and Ceph is not called", async () => {
    const silent = { ...stuck.bmc, port: await freeUdpPort() };
    const ceph = recordingCeph();
    const result = await fenceHost(target(silent, []), deps(PASSWORD, ceph));
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      /did not answer .*, and it has no storage address to blocklist; nothing was evacuated$/,
    );
    expect(ceph.calls).toEqual([]);
  });

  it("one that takes the off and then dies (the fixture stopped) is not a power fence", async () => {
    const sim = await switchable();
    // The real ipmitool against the real BMC; the BMC process is stopped right after the off.
    const ipmi: typeof localIpmi = async (bmc, password, command, opts) => {
      const outcome = await localIpmi(bmc, password, command, opts);
      if (command.join(" ") === "chassis power off") await sim.stop();
      return outcome;
    };
    const result = await fenceHost(target(sim.bmc), { ...deps(PASSWORD), ipmi });
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      /^Cannot fence cmp1: BMC 127\.0\.0\.1:\d+ took the off command, then did not answer, and the storage fence is off/,
    );
    expect(result.attempts[1]).toMatch(/^power status cmp1: BMC .* did not answer/);
  });

  it("no BMC in the inventory and the storage fence off: not fenced", async () => {
    const result = await fenceHost(target(undefined), deps(PASSWORD));
    expect(result).toMatchObject({
      ok: false,
      detail:
        "Cannot fence cmp1: it has no BMC in the inventory, and the storage fence is off; nothing was evacuated",
    });
  });
});
