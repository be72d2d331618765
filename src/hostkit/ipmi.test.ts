import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BmcEndpoint,
  classifyIpmiFailure,
  fenceIpmilanParams,
  ipmiLocal,
  ipmiOutcome,
  ipmitoolArgs,
  ipmitoolViaStdin,
  parsePowerStatus,
} from "./ipmi.ts";
import { freeUdpPort, type IpmiSim, startIpmiSim } from "./ipmi-sim-fixture.ts";

const PASSWORD = "bmc-Secret-4711";

let sim: IpmiSim;
let bmc: BmcEndpoint;

beforeAll(async () => {
  sim = await startIpmiSim(PASSWORD);
  bmc = sim.bmc;
});

afterAll(async () => {
  await sim?.stop();
});

describe("ipmitool against a real BMC (ipmi_sim)", () => {
  it("reads the power state with the right credentials and suite", async () => {
    const outcome = await ipmiLocal(bmc, PASSWORD, ["chassis", "power", "status"]);
    expect(outcome).toMatchObject({ ok: true, power: "on" });
  });

  it("tells a wrong password from a wrong user from a refused cipher suite", async () => {
    const verbose = { verbose: true };
    const status = ["chassis", "power", "status"];
    expect(await ipmiLocal(bmc, "not-it", status, verbose)).toMatchObject({
      ok: false,
      failure: "wrong-password",
    });
    expect(await ipmiLocal({ ...bmc, user: "bob" }, PASSWORD, status, verbose)).toMatchObject({
      ok: false,
      failure: "wrong-user",
    });
    // ipmi_sim has no SHA-256 suites.
    expect(await ipmiLocal({ ...bmc, cipherSuite: 17 }, PASSWORD, status, verbose)).toMatchObject({
      ok: false,
      failure: "cipher-refused",
    });
  });

  it("calls a BMC that never answers unreachable", async () => {
    const silent = { ...bmc, port: await freeUdpPort() };
    const outcome = await ipmiLocal(silent, PASSWORD, ["chassis", "power", "status"], {
      verbose: true,
      retries: 1,
    });
    expect(outcome).toMatchObject({ ok: false, failure: "unreachable" });
  });

  it("works with the password on stdin only (the remote form), never in argv", async () => {
    const { argv, stdin } = ipmitoolViaStdin(ipmitoolArgs(bmc, ["chassis", "power", "status"]), PASSWORD);
    expect(argv.join(" ")).not.toContain(PASSWORD);
    const [cmd = "", ...rest] = argv;
    const child = spawn(cmd, rest, { env: { PATH: process.env.PATH ?? "" } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stdin.end(stdin);
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code).toBe(0);
    expect(parsePowerStatus(out)).toBe("on");
  });
});

describe("ipmitool output", () => {
  it("parses both power states and rejects anything else", () => {
    expect(parsePowerStatus("Chassis Power is off\n")).toBe("off");
    expect(parsePowerStatus("Chassis Power is on\n")).toBe("on");
    expect(() => parsePowerStatus("Error: Unable to establish IPMI v2 / RMCP+ session\n")).toThrow(
      /Cannot read a power state/,
    );
  });

  it("never keeps the password in a failure's detail", () => {
    const outcome = ipmiOutcome({ code: 1, stdout: "", stderr: `weird BMC echo: ${PASSWORD}\n` }, PASSWORD, [
      "chassis",
      "power",
      "status",
    ]);
    expect(outcome).toMatchObject({ ok: false, failure: "other" });
    expect(JSON.stringify(outcome)).not.toContain(PASSWORD);
  });

  it("counts a run killed by its timeout as unreachable", () => {
    expect(classifyIpmiFailure("", true)).toBe("unreachable");
    expect(classifyIpmiFailure("", false)).toBe("other");
  });

  it("gives fence_ipmilan the inventory's cipher suite, and no suite without lanplus", () => {
    expect(fenceIpmilanParams(bmc)).toEqual({
      ip: "127.0.0.1",
      ipport: String(bmc.port),
      username: "admin",
      lanplus: "1",
      cipher: "3",
    });
    expect(fenceIpmilanParams({ ...bmc, lanplus: false })).not.toHaveProperty("cipher");
    // The CIB's order: a reordered device would count as a change on the next deploy.
    expect(Object.keys(fenceIpmilanParams(bmc, "pw"))).toEqual([
      "ip",
      "ipport",
      "username",
      "password",
      "lanplus",
      "cipher",
    ]);
  });
});
