/**
 * @module
 * What both recovery decisions share: a Galera position and a missing controller's power facts.
 * The decisions (galera-plan.ts, rabbitmq-plan.ts) are pure functions of facts; collecting the
 * facts (SSH, BMCs, Pacemaker's fence history) is another module's job.
 */

/** A Galera history (cluster state uuid) and how far a node got in it. */
export interface Position {
  uuid: string;
  /** -1: unknown (the node crashed, or never committed anything). */
  seqno: number;
}

/** The uuid of no history: a datadir that never joined a cluster, or lost its position. */
export const EMPTY_UUID = "00000000-0000-0000-0000-000000000000";

/** What the BMC and Pacemaker say about a controller this host cannot reach. */
export interface PowerFacts {
  /** `ipmitool chassis power status`; "unknown" when the BMC does not answer. */
  power: "on" | "off" | "unknown";
  /**
   * Pacemaker fenced the node since it was lost (a successful fence action in its history, later
   * than its last time as a member). fence_ipmilan only reports success once the BMC said off.
   */
  fenced: boolean;
}

/** How a missing controller counts for a recovery decision. */
export type Absence = "confirmed-off" | "coming-up" | "unknown";

/**
 * "on" wins over a fence: a fence that rebooted the node, or someone who powered it on, means it
 * may be booting (and may run a database we cannot see). A fence with a BMC that no longer answers
 * still proves it was off after it was lost; a BMC without an answer and no fence proves nothing.
 */
export function absence(facts: PowerFacts | undefined): Absence {
  if (facts === undefined) return "unknown";
  if (facts.power === "on") return "coming-up";
  if (facts.power === "off" || facts.fenced) return "confirmed-off";
  return "unknown";
}

/** Why a missing controller's absence is "unknown", for a refusal. */
export function unknownPowerWhy(facts: PowerFacts | undefined): string {
  return facts === undefined
    ? "no BMC answer was collected"
    : "its BMC does not answer and Pacemaker did not fence it";
}

/** "powered off (BMC), fenced by Pacemaker": the evidence, for reasons and the plan text. */
export function describePower(facts: PowerFacts | undefined): string {
  if (facts === undefined) return "power unknown (no BMC answer)";
  const fenced = facts.fenced ? ", fenced by Pacemaker" : "";
  if (facts.power === "unknown") return `power unknown (BMC does not answer)${fenced}`;
  return `powered ${facts.power} (BMC)${fenced}`;
}

/** "ctl1", "ctl1 and ctl2", "ctl1, ctl2 and ctl3". */
export function listHosts(hosts: readonly string[]): string {
  if (hosts.length <= 1) return hosts.join("");
  return `${hosts.slice(0, -1).join(", ")} and ${hosts.at(-1)}`;
}
