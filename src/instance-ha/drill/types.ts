/**
 * @module
 * What a compute drill is given (compute-fault.ts), and what its watchers share.
 */
import type { Nova } from "../../openstack/nova.ts";
import type { Osc } from "../../ops/smoke/osc.ts";
import type { Transport } from "../../transport/types.ts";
import type { StoredEvent } from "../store.ts";
import type { RoomPorts } from "./capacity-short.ts";
import type { FaultPlan } from "./faults.ts";
import type { VmOutcome } from "./report.ts";

export interface DrillDeps {
  /** The `openstack` client as the cloud's admin. */
  admin: Osc;
  transport: (host: string) => Transport;
  /** The fault, and how to undo it. */
  fault: FaultPlan;
  /** The computes of the site (where a VM must not run twice). */
  computes: readonly string[];
  /** The engine's history of a host since a time. */
  history: (host: string, since: Date) => Promise<StoredEvent[]>;
  /** Each timeline line as it happens. */
  log?: (line: string) => void;
  /** Placement, for compute-capacity-short's squeeze. */
  room?: RoomPorts;
  /**
   * Nova's API as the admin, read straight from this process: each VM's state is seen within
   * about a second of Nova's, where one `openstack server list` took 2-20 s on the loaded lab.
   */
  nova: Pick<Nova, "serversNamed" | "hypervisors">;
}

export interface DrillOptions {
  host: string;
  vms: number;
  image: string;
  flavor: string;
  /** How long every VM has to be ACTIVE elsewhere before the drill gives up. @default 300_000 */
  evacuateTimeoutMs?: number;
  /** A fault that must not move VMs: how long to watch them stay. @default 90_000 */
  holdMs?: number;
}

export interface Watch {
  tag: string;
  off: Date;
  vms: VmOutcome[];
  note: (line: string) => void;
  problems: string[];
}
