/**
 * @module
 * The compute faults of issue #10's drills, each with what the engine must make of it:
 * - `compute-poweroff`: the plug pulled through the BMC. Fence by power, evacuate every VM.
 * - `compute-bmc-dead`: the BMC hangs, then the plug is pulled: no power state can be read, so
 *   the only fence left is the host's storage addresses blocklisted in Ceph. Evacuate every VM.
 * - `compute-storage-cut`: the storage network cut, management alive: the VMs have lost their
 *   disks. Fence by power, evacuate every VM.
 * - `compute-management-cut`: the management network cut, storage alive: the VMs may still be
 *   writing. No fence, no evacuation, an alert; the VMs run on where they were.
 * - `engine-killed`: a compute's plug pulled as in compute-poweroff, and once the evacuation has
 *   started, the active engine killed and its controller banned for it: a standby must finish
 *   the evacuation from the history, and no VM may be evacuated twice.
 * - `compute-capacity-short`: compute-poweroff on a site with room for about half its VMs
 *   (capacity-short.ts): the engine moves those that fit, highest priority first, and leaves the
 *   rest where they were, naming them in its history.
 * - `compute-mass-poweroff`: several computes' plugs pulled at once (the drill's and the next
 *   ones, `count` in all): a switch or a power feed, not host failures. The valve closes: no
 *   fence, no evacuation, an alert.
 */
import { HastackError } from "../../util/errors.ts";
import type { EngineKill } from "./engine-kill.ts";

export const HA_DRILLS = [
  "compute-poweroff",
  "compute-bmc-dead",
  "compute-storage-cut",
  "compute-management-cut",
  "compute-mass-poweroff",
  "engine-killed",
  "compute-capacity-short",
] as const;
export type HaDrillName = (typeof HA_DRILLS)[number];

/** How the drill breaks a compute: the lab's injector, or IPMI and SSH on real hosts. */
export interface HaFaultPorts {
  powerOff(host: string): Promise<void>;
  powerOn(host: string): Promise<void>;
  powerStatus(host: string): Promise<"on" | "off">;
  isolate(host: string, network: "management" | "storage"): Promise<void>;
  heal(host: string): Promise<void>;
  /** Only the lab can kill a BMC. */
  bmcDead?(host: string): Promise<void>;
  bmcBack?(host: string): Promise<void>;
  /** Kills the active engine and bans its controller for it (engine-kill.ts). */
  killEngine?(): Promise<EngineKill>;
}

/**
 * What the engine must do: fence (this way) and evacuate; or hold, saying why in its history:
 * `alert` ("not evacuating: ...", the VMs still run where they are), or the `valve` closed.
 */
export type Expectation =
  | { evacuate: true; fenceMethod: "power" | "storage"; squeezed?: true }
  | { evacuate: false; hold: "alert" | "valve" };

export interface FaultPlan {
  drill: HaDrillName;
  expect: Expectation;
  /** Every host the fault touches (the drill's first). */
  hosts(host: string): string[];
  /** Breaks the host; returns the timeline's line. */
  inject(host: string): Promise<string>;
  /** A second fault once the engine has started to evacuate the host; returns the timeline's line. */
  midway?(host: string): Promise<string>;
  /** Leaves the host as found: BMC answering, network healed, powered on. */
  restore(host: string): Promise<void>;
}

/**
 * `others`: the site's other computes, in order; compute-mass-poweroff takes the first
 * `count - 1` of them beside the drill's host.
 */
export function faultPlan(
  drill: HaDrillName,
  ports: HaFaultPorts,
  others: readonly string[] = [],
  count = 3,
): FaultPlan {
  /** A fence powers the host off, and a lab power-off deletes its links: heal what still exists. */
  async function healAndPowerOn(host: string): Promise<void> {
    await ports.heal(host).catch(() => undefined);
    if ((await ports.powerStatus(host)) === "off") await ports.powerOn(host);
  }
  const one = (host: string) => [host];
  const plugPulled: Omit<FaultPlan, "drill"> = {
    expect: { evacuate: true, fenceMethod: "power" },
    hosts: one,
    async inject(host) {
      await ports.powerOff(host);
      return `${host} powered off through its BMC`;
    },
    restore: healAndPowerOn,
  };
  switch (drill) {
    case "engine-killed": {
      const { killEngine } = ports;
      if (!killEngine)
        throw new HastackError("E_HA_DRILL", `Cannot run ${drill}: nothing here can kill the engine`);
      let killed: EngineKill | undefined;
      return {
        ...plugPulled,
        drill,
        async midway() {
          killed = await killEngine();
          return `the active engine on ${killed.node} killed (SIGKILL) mid-evacuation, and ${killed.node} banned for it`;
        },
        async restore(host) {
          await killed?.undo();
          await healAndPowerOn(host);
        },
      };
    }
    case "compute-poweroff":
      return { ...plugPulled, drill };
    case "compute-capacity-short":
      return { ...plugPulled, drill, expect: { evacuate: true, fenceMethod: "power", squeezed: true } };
    case "compute-bmc-dead": {
      const { bmcDead, bmcBack } = ports;
      if (!bmcDead || !bmcBack)
        throw new HastackError(
          "E_HA_DRILL",
          `Cannot run ${drill}: only the lab can kill a BMC (run it on a lab inventory)`,
        );
      return {
        drill,
        expect: { evacuate: true, fenceMethod: "storage" },
        hosts: one,
        async inject(host) {
          await bmcDead(host);
          return `${host}'s BMC hung, then its plug pulled: the BMC died with the host`;
        },
        async restore(host) {
          await bmcBack(host);
          await healAndPowerOn(host);
        },
      };
    }
    case "compute-storage-cut":
      return {
        drill,
        expect: { evacuate: true, fenceMethod: "power" },
        hosts: one,
        async inject(host) {
          await ports.isolate(host, "storage");
          return `${host} cut off the storage network (management alive)`;
        },
        restore: healAndPowerOn,
      };
    case "compute-management-cut":
      return {
        drill,
        expect: { evacuate: false, hold: "alert" },
        hosts: one,
        async inject(host) {
          await ports.isolate(host, "management");
          return `${host} cut off the management network (storage alive)`;
        },
        restore: healAndPowerOn,
      };
    case "compute-mass-poweroff": {
      if (!Number.isInteger(count) || count < 2 || others.length < count - 1)
        throw new HastackError(
          "E_HA_DRILL",
          `Cannot run ${drill} with ${count} computes: the site has ${others.length + 1} (2 or more needed)`,
        );
      const hosts = (host: string) => [host, ...others.slice(0, count - 1)];
      return {
        drill,
        expect: { evacuate: false, hold: "valve" },
        hosts,
        async inject(host) {
          // At once, as a power feed or a switch takes them: the valve counts trouble in a window.
          await Promise.all(hosts(host).map((h) => ports.powerOff(h)));
          return `${hosts(host).join(", ")} powered off at once through their BMCs`;
        },
        async restore(host) {
          await Promise.all(hosts(host).map((h) => healAndPowerOn(h)));
        },
      };
    }
  }
}
