/**
 * @module
 * Fencing a failed compute before anything of it is evacuated (issue #10 item 5): power off
 * through its BMC, confirmed by a power status read-back; when the BMC does not answer at all
 * (it died with the host, or is cut off), block the host's storage addresses in Ceph instead,
 * confirmed by the blocklist read-back. A storage fence protects only disks on Ceph: after one
 * the engine evacuates only VMs whose disks are all on Ceph (the host may still run the others).
 * Neither confirmed: nothing is done, the result says why, and the engine alerts.
 *
 * A BMC that answers but does not confirm off (a refused password, a power state still on) gets
 * no storage fence: the host may be alive and running its VMs, and moving them would run them
 * twice on the network even if their disks were blocked. That is the operator's to look at.
 */
import type { BmcEndpoint } from "../hostkit/ipmi.ts";
import { HastackError } from "../util/errors.ts";
import { DEFAULT_POWER_FENCE, type IpmiRunner, type PowerFenceSettings, powerFence } from "./power-fence.ts";
import type { ActionEvent } from "./signals.ts";
import { blocklistHost, liftStorageFence, type StorageFenceDeps } from "./storage-fence.ts";

export interface FenceTarget {
  /** The compute's name as the inventory spells it. */
  host: string;
  /** Its BMC; undefined when the inventory gives it none (only a storage fence is possible). */
  bmc?: BmcEndpoint;
  /** Its storage-network addresses (IPv4): what a storage fence blocklists. */
  storageAddresses: readonly string[];
}

export interface FenceDeps {
  /** Runs ipmitool (localIpmi, or a controller's through SSH). */
  ipmi: IpmiRunner;
  /** The BMC password of a host, from the secrets: kept out of the target, so logging one is safe. */
  bmcPassword: (host: string) => string | undefined;
  /** Where and as whom `ceph` runs; undefined: the storage fence is off. */
  storage?: StorageFenceDeps;
  /** Each attempt's line as it happens (they are also in the result). */
  log?: (line: string) => void;
  power?: Partial<PowerFenceSettings>;
}

/**
 * `detail` is one sentence for the operator; `attempts` what was tried, in order, and why it
 * failed. `ms` runs from the first command to the confirming read-back (or to giving up).
 */
export type FenceResult =
  | { ok: true; method: "power"; detail: string; ms: number; attempts: string[] }
  | { ok: true; method: "storage"; detail: string; ms: number; attempts: string[] }
  | { ok: false; detail: string; ms: number; attempts: string[] };

export async function fenceHost(target: FenceTarget, deps: FenceDeps): Promise<FenceResult> {
  const started = performance.now();
  const attempts: string[] = [];
  const password = target.bmc ? deps.bmcPassword(target.host) : undefined;
  // The runner may be one that does not scrub (a remote ipmitool's echo): scrub here as well.
  const scrub = (text: string) => (password ? text.split(password).join("***") : text);
  const log = (line: string) => {
    const clean = scrub(line);
    attempts.push(clean);
    deps.log?.(clean);
  };
  const ms = () => Math.round(performance.now() - started);
  const failed = (why: string): FenceResult => ({
    ok: false,
    detail: scrub(`Cannot fence ${target.host}: ${why}; nothing was evacuated`),
    ms: ms(),
    attempts,
  });

  let powerWhy: string;
  if (!target.bmc) {
    powerWhy = "it has no BMC in the inventory";
    log(`power off ${target.host}: skipped, ${powerWhy}`);
  } else if (password === undefined) {
    // A missing secret says nothing about the host: no reason to fall back to the storage fence.
    log(`power off ${target.host}: skipped, no BMC password in the secrets`);
    return failed("no password for its BMC in the secrets");
  } else {
    const settings = { ...DEFAULT_POWER_FENCE, ...deps.power };
    const power = await powerFence(target.host, target.bmc, password, { ipmi: deps.ipmi, log, settings });
    if (power.kind === "off") {
      return {
        ok: true,
        method: "power",
        detail: scrub(`${target.host} fenced: ${power.detail}`),
        ms: ms(),
        attempts,
      };
    }
    if (power.kind === "refused") return failed(`not powered off: ${power.detail}`);
    powerWhy = power.detail;
  }

  if (!deps.storage) {
    log(`storage fence ${target.host}: off in the settings`);
    return failed(`${powerWhy}, and the storage fence is off`);
  }
  if (target.storageAddresses.length === 0) {
    log(`storage fence ${target.host}: skipped, it has no storage address`);
    return failed(`${powerWhy}, and it has no storage address to blocklist`);
  }
  const addresses = target.storageAddresses.join(", ");
  log(`storage fence ${target.host}: blocklisting ${addresses} in Ceph from ${deps.storage.runner.name}`);
  try {
    const done = await blocklistHost(target.host, target.storageAddresses, deps.storage);
    const until = done.entries.map((e) => `${e.addr} until ${e.until}`).join(", ");
    log(`storage fence ${target.host}: confirmed in the OSD blocklist: ${until}`);
    return {
      ok: true,
      method: "storage",
      detail: `${target.host} fenced: ${addresses} blocklisted in Ceph (${powerWhy}); only VMs on Ceph may be evacuated`,
      ms: ms(),
      attempts,
    };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    log(`storage fence ${target.host}: ${why}`);
    const undone = await undoStorageFence(target, deps.storage, e, log);
    return failed(`${powerWhy}, and the storage fence failed: ${why}${undone}`);
  }
}

/**
 * After a storage fence that was not confirmed: remove what it may have added. An unconfirmed
 * fence must leave no trace: the host stays unfenced and unevacuated, and if it comes back
 * without a reboot, entries left behind would cut its running VMs off their disks, with nothing
 * to lift them (the engine lifts only a confirmed fence). Returns what to add to the detail.
 */
async function undoStorageFence(
  target: FenceTarget,
  storage: StorageFenceDeps,
  error: unknown,
  log: (line: string) => void,
): Promise<string> {
  // Refused before any add: nothing to undo.
  if (error instanceof HastackError && error.code === "E_HA_STORAGE_ADDRESS") return "";
  try {
    await liftStorageFence(target.host, target.storageAddresses, storage);
    log(`storage fence ${target.host}: undone, none of its addresses is in the OSD blocklist`);
    return " (undone: none of its addresses is in the blocklist)";
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    log(`storage fence ${target.host}: cannot undo it: ${why}`);
    return `; its addresses may remain in the OSD blocklist (\`ceph osd blocklist rm\` each): ${why}`;
  }
}

/** What the state machine (host-state.ts) is told about a fence's outcome. */
export function fenceEvent(result: FenceResult): ActionEvent {
  return result.ok
    ? { kind: "fence-confirmed", method: result.method }
    : { kind: "fence-failed", detail: result.detail };
}
