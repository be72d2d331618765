/**
 * @module
 * The power fence: `chassis power off` through the compute's BMC, then power status reads until
 * the BMC says off. Only that read-back counts: BMCs accept an off and carry it out later, or
 * never (a wedged BMC, a stuck relay), and an evacuation onto a host that still runs its VMs
 * runs them twice. What a BMC that does not answer at all means is the caller's to decide (the
 * storage fence); a BMC that answers and does not confirm off is no fence at all.
 */
import {
  type BmcEndpoint,
  describeIpmiFailure,
  type IpmiOutcome,
  ipmiLocal,
  type LocalIpmiOptions,
} from "../hostkit/ipmi.ts";

/** Runs one ipmitool command against a BMC, the password out of argv (ipmiLocal, or over SSH). */
export type IpmiRunner = (
  bmc: BmcEndpoint,
  password: string,
  command: readonly string[],
  opts: LocalIpmiOptions,
) => Promise<IpmiOutcome>;

export const localIpmi: IpmiRunner = ipmiLocal;

export interface PowerFenceSettings {
  /** How long the BMC has to report off after the off command. @default 20_000 */
  confirmMs: number;
  /** Between two power status reads. @default 1_000 */
  pollMs: number;
  /** One ipmitool run (its own -N/-R retries included). @default 10_000 */
  callTimeoutMs: number;
}

export const DEFAULT_POWER_FENCE: PowerFenceSettings = {
  confirmMs: 20_000,
  pollMs: 1_000,
  callTimeoutMs: 10_000,
};

/**
 * - `off`: the BMC took the off command and then read back off.
 * - `silent`: the BMC never answered (ipmitool timed out or got no session): dead with its host,
 *   or cut off from us. Nothing is known about the host's power.
 * - `refused`: the BMC answered but the host is not confirmed off (a refused password, a power
 *   state still on at the bound, an answer we cannot read).
 */
export type PowerFenceOutcome =
  | { kind: "off"; detail: string }
  | { kind: "silent"; detail: string }
  | { kind: "refused"; detail: string };

export interface PowerFenceDeps {
  ipmi: IpmiRunner;
  log: (line: string) => void;
  settings: PowerFenceSettings;
}

const STATUS = ["chassis", "power", "status"] as const;
const OFF = ["chassis", "power", "off"] as const;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export async function powerFence(
  host: string,
  bmc: BmcEndpoint,
  password: string,
  deps: PowerFenceDeps,
): Promise<PowerFenceOutcome> {
  const { ipmi, log, settings } = deps;
  // -v: ipmitool then says why a session failed, which tells a dead BMC from a refused password.
  const opts: LocalIpmiOptions = { verbose: true, timeoutMs: settings.callTimeoutMs };
  const where = `BMC ${bmc.address}:${bmc.port}`;
  const off = await ipmi(bmc, password, OFF, opts);
  if (!off.ok) {
    const why = `${where} ${describeIpmiFailure(off.failure, bmc, off.detail)}`;
    log(`power off ${host}: ${why}`);
    return off.failure === "unreachable"
      ? { kind: "silent", detail: why }
      : { kind: "refused", detail: `power off: ${why}` };
  }
  log(`power off ${host}: ${where} accepted the command; reading the power state back`);

  const started = performance.now();
  let reads = 0;
  let answered = false;
  let last = "";
  for (;;) {
    const status = await ipmi(bmc, password, STATUS, opts);
    reads++;
    const elapsed = performance.now() - started;
    const now = status.ok
      ? `power ${status.power}`
      : `${where} ${describeIpmiFailure(status.failure, bmc, status.detail)}`;
    if (now !== last) log(`power status ${host}: ${now} (read ${reads}, ${seconds(elapsed)} after the off)`);
    last = now;
    if (status.ok) {
      answered = true;
      if (status.power === "off")
        return { kind: "off", detail: `${where} reports power off after ${seconds(elapsed)}` };
    }
    if (elapsed + settings.pollMs > settings.confirmMs) break;
    await new Promise((r) => setTimeout(r, settings.pollMs));
  }
  const bound = seconds(settings.confirmMs);
  log(`power status ${host}: not off within ${bound} (${reads} reads), last: ${last}`);
  // It took the off and then fell silent: no longer a BMC that answers, and nothing is known of
  // the power; the storage fence does not depend on it, so the caller may still use it.
  if (!answered) return { kind: "silent", detail: `${where} took the off command, then did not answer` };
  return {
    kind: "refused",
    detail: `${where} took the off command, but the power is not off after ${bound} (${last})`,
  };
}
