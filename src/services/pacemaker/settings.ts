import { z } from "zod";
import type { Topology } from "../../topology/types.ts";
import type { Problem } from "../../util/errors.ts";
import type { InventoryView } from "../types.ts";

export const CorosyncSettings = z.strictObject({
  token_ms: z.int().min(300).default(1000).describe("totem token timeout; lower = faster failover"),
  consensus_ms: z.int().min(360).optional().describe("defaults to 1.2 x token"),
  transport: z.literal("knet").default("knet"),
});
export type CorosyncSettings = z.output<typeof CorosyncSettings>;

export const PacemakerSettings = z.strictObject({
  fencing: z.boolean().default(true).describe("stonith-enabled; turning it off allows split brain"),
  no_quorum_policy: z.enum(["stop", "freeze", "suicide"]).default("stop"),
  cluster_recheck_interval_min: z.int().min(1).default(5),
  fence_timeout_s: z.int().min(5).default(60),
  fence_delay_s: z.int().min(0).default(5).describe("pcmk_delay_max, so two nodes do not shoot each other"),
  dc_deadtime_s: z
    .int()
    .min(2)
    .default(5)
    .describe("dc-deadtime: how long a starting node waits for a DC to answer before it calls an election"),
  load_threshold_percent: z
    .int()
    .min(80)
    .default(1000)
    .describe("load-threshold: the load (per core, in %) above which Pacemaker runs one action at a time"),
});
export type PacemakerSettings = z.output<typeof PacemakerSettings>;

export function corosyncSettings(topology: Topology): CorosyncSettings {
  return topology.settings.corosync as CorosyncSettings;
}

export function pacemakerSettings(topology: Topology): PacemakerSettings {
  return topology.settings.pacemaker as PacemakerSettings;
}

/** What the schema cannot say: corosync's consensus rule, and fencing needs every controller's BMC. */
export function checkPacemakerSettings(inv: InventoryView): Omit<Problem, "pos">[] {
  const problems: Omit<Problem, "pos">[] = [];
  const corosync = inv.settings.corosync as CorosyncSettings;
  const pacemaker = inv.settings.pacemaker as PacemakerSettings;
  const { token_ms, consensus_ms } = corosync;
  if (consensus_ms !== undefined && consensus_ms < token_ms * 1.2) {
    problems.push({
      severity: "error",
      code: "E_COROSYNC_CONSENSUS",
      path: ["services", "corosync", "consensus_ms"],
      message: `services.corosync.consensus_ms: ${consensus_ms} is below 1.2 x token (${token_ms * 1.2})`,
      hint: "corosync refuses a consensus timeout shorter than 1.2 x token; remove it to use the default",
    });
  }
  problems.push(...checkFencingWaiver(pacemaker.fencing, inv.waivers.fencing));
  if (pacemaker.fencing && inv.vipManager === "pacemaker") {
    for (const [name, host] of Object.entries(inv.hosts)) {
      if (!host.roles.includes("controller") || host.bmc) continue;
      problems.push({
        severity: "error",
        code: "E_CONTROLLER_NO_BMC",
        path: ["hosts", name],
        message: `hosts.${name}: controller has no bmc, but fencing is on`,
        hint: "add a bmc (address, user, password_secret): without fencing a hung controller can keep the VIP",
      });
    }
  }
  return problems;
}

/**
 * Fencing off is the seeds' error E17: a hung controller keeps its VIP and its writes while the
 * others take over (split brain). Allowed only with a written reason, and then still a warning
 * on every `validate` (and `status`), so nobody forgets it is off.
 */
export function checkFencingWaiver(fencing: boolean, waiver: string | undefined): Omit<Problem, "pos">[] {
  if (fencing) return [];
  const path = ["services", "pacemaker", "fencing"];
  if (!waiver)
    return [
      {
        severity: "error",
        code: "E_FENCING_OFF",
        path,
        message:
          "services.pacemaker.fencing: false turns STONITH off: a hung controller can keep the VIP and its writes while another takes over (split brain)",
        hint: "keep fencing on (give every controller a bmc), or set waivers.fencing to a sentence saying why this site may run without it",
      },
    ];
  return [
    {
      severity: "warning",
      code: "E_FENCING_OFF",
      path,
      message: `services.pacemaker.fencing: false (waived: ${waiver}): no node is ever fenced, split brain is possible`,
    },
  ];
}
