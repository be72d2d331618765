import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
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

const PASSWORD = "bmc-Secret-4711";

/** A free UDP port on loopback (ipmi_sim cannot be told to pick one). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

let dir: string;
let sim: ChildProcess;
let bmc: BmcEndpoint;

// A real ipmi_sim (the lab's BMC) on loopback: lanplus, MD5-free RMCP+, user admin.
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "hastack-ipmi-"));
  const port = await freeUdpPort();
  await fs.writeFile(path.join(dir, "chassis.sh"), '#!/bin/sh\n[ "$2" = get ] && echo "power:1"\nexit 0\n', {
    mode: 0o755,
  });
  const conf = [
    'name "test"',
    "set_working_mc 0x20",
    "  startlan 1",
    `    addr 127.0.0.1 ${port}`,
    "    priv_limit admin",
    "    allowed_auths_admin md5",
    "    guid a1b2c3d4e5f6a7b8c9d0000000000099",
    "  endlan",
    `  chassis_control "${path.join(dir, "chassis.sh")} ${dir}"`,
    'user 1 false "" "" user 1 md5',
    `user 2 true "admin" "${PASSWORD}" admin 10 md5`,
    "",
  ].join("\n");
  await fs.writeFile(path.join(dir, "lan.conf"), conf, { mode: 0o600 });
  await fs.writeFile(
    path.join(dir, "sim.emu"),
    "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n",
  );
  await fs.mkdir(path.join(dir, "state"));
  const args = ["-c", "lan.conf", "-f", "sim.emu", "-s", "state", "-n"];
  sim = spawn("ipmi_sim", args, { cwd: dir, stdio: "ignore" });
  bmc = { address: "127.0.0.1", port, user: "admin", lanplus: true, cipherSuite: 3 };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await ipmiLocal(bmc, PASSWORD, ["chassis", "power", "status"])).ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("ipmi_sim did not answer");
});

afterAll(async () => {
  sim?.kill();
  await fs.rm(dir, { recursive: true, force: true });
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
