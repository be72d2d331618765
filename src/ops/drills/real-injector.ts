import { bmcEndpoint, ipmiLocal, requireIpmi } from "../../hostkit/ipmi.ts";
import type { NetworkName } from "../../inventory/schema.ts";
import type { Topology } from "../../topology/types.ts";
import type { TransportPool } from "../../transport/pool.ts";
import { HastackError } from "../../util/errors.ts";
import type { FaultInjector } from "./types.ts";

/** How long a real host keeps a cut link down before it restores it by itself. */
const CUT_SECONDS = 120;

/**
 * Faults on real hosts: power through each host's BMC with ipmitool (the path a fence agent
 * takes), a cut as a link set down by the host itself with a timer that brings it back, because
 * after the cut nothing can reach it to undo it.
 */
export function realInjector(
  topology: Topology,
  pool: TransportPool,
  secrets: Readonly<Record<string, string>>,
): FaultInjector {
  function bmcOf(name: string) {
    const host = topology.hosts.find((h) => h.name === name);
    if (!host?.bmc)
      throw new HastackError(
        "E_NO_BMC",
        `Cannot control the power of ${name}: it has no bmc in the inventory`,
      );
    const password = secrets[host.bmc.password_secret];
    if (password === undefined) {
      throw new HastackError(
        "E_SECRET_MISSING",
        `Cannot find secret ${host.bmc.password_secret} (BMC of ${name})`,
      );
    }
    return { ...host.bmc, password };
  }

  async function ipmi(name: string, args: string[]): Promise<{ power?: "on" | "off"; stdout: string }> {
    const bmc = bmcOf(name);
    const endpoint = bmcEndpoint(bmc);
    const outcome = await ipmiLocal(endpoint, bmc.password, args, { verbose: true });
    return requireIpmi(outcome, `${args.join(" ")} ${name} through its BMC`, endpoint);
  }

  return {
    kind: "real",
    async powerOff(host) {
      await ipmi(host, ["chassis", "power", "off"]);
    },
    async powerOn(host) {
      await ipmi(host, ["chassis", "power", "on"]);
    },
    async powerStatus(host) {
      return (await ipmi(host, ["chassis", "power", "status"])).power ?? "on";
    },
    async isolate(host: string, network: NetworkName) {
      const resolved = topology.hosts.find((h) => h.name === host);
      const address = resolved?.addresses[network];
      if (!address)
        throw new HastackError(
          "E_DRILL_INJECT",
          `Cannot cut ${host} off ${network}: it has no address there`,
        );
      const script = `dev=$(ip -o -4 addr show | awk '$4 ~ "^${address}/" {print $2}'); [ -n "$dev" ] || exit 3; nohup sh -c "ip link set $dev down; sleep ${CUT_SECONDS}; ip link set $dev up" >/dev/null 2>&1 &`;
      const result = await pool.get(host).exec(["sh", "-c", script]);
      if (result.code !== 0)
        throw new HastackError("E_DRILL_INJECT", `Cannot cut ${host} off ${network}: exit ${result.code}`);
    },
    async heal(host) {
      // The host restores its own link after CUT_SECONDS (or it was fenced and rebooted): wait for SSH.
      const deadline = Date.now() + (CUT_SECONDS + 60) * 1000;
      while (Date.now() < deadline) {
        const ok = await pool
          .get(host)
          .exec(["true"], { timeoutMs: 5000 })
          .then(
            (r) => r.code === 0,
            () => false,
          );
        if (ok) return;
        await new Promise((r) => setTimeout(r, 2000));
      }
      throw new HastackError("E_DRILL_RESTORE", `Cannot reach ${host} again after the cut`);
    },
    async observe(host, argv) {
      return pool
        .get(host)
        .exec(argv, { timeoutMs: 2000 })
        .catch(() => undefined);
    },
  };
}
