/**
 * Test support: a real BMC (OpenIPMI's ipmi_sim, the one the lab runs) on loopback, IPMI 2.0
 * lanplus with cipher suite 3, user admin with the given password, always powered on.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type BmcEndpoint, ipmiLocal } from "./ipmi.ts";

export interface IpmiSim {
  bmc: BmcEndpoint;
  stop(): Promise<void>;
}

/** A free UDP port on loopback (ipmi_sim cannot be told to pick one). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

export async function startIpmiSim(password: string): Promise<IpmiSim> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hastack-ipmi-"));
  const port = await freeUdpPort();
  const chassis = path.join(dir, "chassis.sh");
  await fs.writeFile(chassis, '#!/bin/sh\n[ "$2" = get ] && echo "power:1"\nexit 0\n', { mode: 0o755 });
  const conf = [
    'name "test"',
    "set_working_mc 0x20",
    "  startlan 1",
    `    addr 127.0.0.1 ${port}`,
    "    priv_limit admin",
    "    allowed_auths_admin md5",
    "    guid a1b2c3d4e5f6a7b8c9d0000000000099",
    "  endlan",
    `  chassis_control "${chassis} ${dir}"`,
    'user 1 false "" "" user 1 md5',
    `user 2 true "admin" "${password}" admin 10 md5`,
    "",
  ].join("\n");
  await fs.writeFile(path.join(dir, "lan.conf"), conf, { mode: 0o600 });
  await fs.writeFile(
    path.join(dir, "sim.emu"),
    "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n",
  );
  await fs.mkdir(path.join(dir, "state"));
  const sim = spawn("ipmi_sim", ["-c", "lan.conf", "-f", "sim.emu", "-s", "state", "-n"], {
    cwd: dir,
    stdio: "ignore",
  });
  const stop = async () => {
    sim.kill();
    await fs.rm(dir, { recursive: true, force: true });
  };
  const bmc: BmcEndpoint = { address: "127.0.0.1", port, user: "admin", lanplus: true, cipherSuite: 3 };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await ipmiLocal(bmc, password, ["chassis", "power", "status"])).ok) return { bmc, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error("ipmi_sim did not answer within 10 s");
}
