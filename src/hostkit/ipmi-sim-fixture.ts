/**
 * Test support: a real BMC (OpenIPMI's ipmi_sim, the one the lab runs) on loopback, IPMI 2.0
 * lanplus with cipher suite 3, user admin with the given password. Its chassis is powered on;
 * by default it stays on whatever it is told (a BMC that accepts `power off` and never carries
 * it out), or with `chassis: "switchable"` it goes off when told, after `offDelayMs`.
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

export interface IpmiSimOptions {
  /** @default "always-on" */
  chassis?: "always-on" | "switchable";
  /** How long a switchable chassis takes to go off once told: a real host takes a moment. @default 0 */
  offDelayMs?: number;
}

/**
 * The chassis_control program: ipmi_sim runs it as "DIR get power" or "DIR set power 0|1" and
 * reads "power:N". A switchable chassis keeps its state in DIR/power ("on", or the time in ms
 * from which it is off), so reads after an off keep saying on until the delay has passed.
 */
function chassisScript(opts: IpmiSimOptions): string {
  if ((opts.chassis ?? "always-on") === "always-on")
    return '#!/bin/sh\n[ "$2" = get ] && echo "power:1"\nexit 0\n';
  return [
    "#!/bin/sh",
    "dir=$1 op=$2 now=$(($(date +%s%N) / 1000000))",
    'state=$(cat "$dir/power" 2>/dev/null || echo on)',
    'if [ "$op" = get ]; then',
    '  if [ "$state" != on ] && [ "$now" -ge "$state" ]; then echo "power:0"; else echo "power:1"; fi',
    'elif [ "$op" = set ] && [ "$3" = power ]; then',
    `  if [ "$4" = 0 ]; then [ "$state" = on ] && echo $((now + ${opts.offDelayMs ?? 0})) >"$dir/power"; else echo on >"$dir/power"; fi`,
    "fi",
    "exit 0",
    "",
  ].join("\n");
}

export async function startIpmiSim(password: string, opts: IpmiSimOptions = {}): Promise<IpmiSim> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hastack-ipmi-"));
  const port = await freeUdpPort();
  const chassis = path.join(dir, "chassis.sh");
  await fs.writeFile(chassis, chassisScript(opts), { mode: 0o755 });
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
