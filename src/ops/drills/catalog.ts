import { haproxySettings } from "../../services/haproxy/settings.ts";
import { corosyncSettings } from "../../services/pacemaker/settings.ts";
import { vipHolders } from "../../services/vip/index.ts";
import { HastackError } from "../../util/errors.ts";
import { controllerReplace } from "./controller-replace.ts";
import { fenceCheck } from "./fence-check.ts";
import { fencedInHistory, holderOf, mustRun, powerBack, sqlWriter } from "./host-ops.ts";
import { powerLoss } from "./power-loss.ts";
import { powerLossOneLost } from "./power-loss-one-lost.ts";
import type { DrillDef, Injected } from "./types.ts";
import { underLoad } from "./under-load.ts";

export const drills: readonly DrillDef[] = [
  {
    id: "vip-holder-poweroff",
    title: "Hard power-off of the VIP holder",
    probe: "sql-read",
    goalMs: (t) => (t.vipManager === "keepalived" ? 1000 : 5000),
    async inject(ctx): Promise<Injected> {
      const target = await holderOf(ctx);
      const faultAt = Date.now();
      await ctx.injector.powerOff(target);
      return {
        target,
        action: `powered off ${target} (the VIP holder) through its BMC`,
        restore: () => powerBack(ctx, target, faultAt),
      };
    },
  },
  {
    id: "haproxy-kill",
    title: "Kill HAProxy on the VIP holder",
    probe: "sql-read",
    goalMs: () => 5000,
    async inject(ctx): Promise<Injected> {
      const target = await holderOf(ctx);
      const result = await ctx.pool.get(target).exec(["systemctl", "kill", "--signal=SIGKILL", "haproxy"]);
      if (result.code !== 0)
        throw new HastackError("E_DRILL_INJECT", `Cannot kill haproxy on ${target}: ${result.stderr.trim()}`);
      return {
        target,
        action: `killed haproxy (SIGKILL) on ${target} (the VIP holder)`,
        restore: async () => {
          // Pacemaker restarts it; clear the failure so status is clean again.
          await mustRun(
            ctx,
            target,
            ["crm_resource", "--cleanup", "--resource", "haproxy-clone"],
            "clear the haproxy failure",
          );
        },
      };
    },
  },
  {
    id: "galera-node-kill",
    title: "Kill MariaDB on the node that takes the writes",
    probe: "sql-write",
    goalMs: (t) => (haproxySettings(t).check.fall + 1) * haproxySettings(t).check.inter_ms,
    async inject(ctx): Promise<Injected> {
      const target = sqlWriter(ctx);
      const result = await ctx.pool.get(target).exec(["systemctl", "kill", "--signal=SIGKILL", "mariadb"]);
      if (result.code !== 0)
        throw new HastackError("E_DRILL_INJECT", `Cannot kill mariadb on ${target}: ${result.stderr.trim()}`);
      return {
        target,
        action: `killed mariadbd (SIGKILL) on ${target}, the node HAProxy sends writes to`,
        restore: async () => {
          await mustRun(ctx, target, ["systemctl", "start", "mariadb"], "start mariadb again", 300_000);
        },
      };
    },
    async verify(_ctx, _injected, facts) {
      // Nothing acknowledged proves nothing about lost writes: the drill measured nothing.
      return facts.acked.length === 0
        ? [{ severity: "failed", message: "no write was acknowledged during the drill" }]
        : [];
    },
  },
  {
    id: "controller-isolate",
    title: "Cut the VIP holder off the management network",
    probe: "sql-read",
    goalMs: (t) => 5000 + corosyncSettings(t).token_ms,
    async inject(ctx): Promise<Injected> {
      const target = await holderOf(ctx);
      const faultAt = Date.now();
      await ctx.injector.isolate(target, "management");
      return {
        target,
        action: `cut ${target} (the VIP holder) off the management network`,
        restore: async () => {
          await ctx.injector.heal(target);
          await powerBack(ctx, target, faultAt);
        },
      };
    },
    async watch(ctx) {
      const run = (host: string, argv: string[]) => ctx.injector.observe(host, argv);
      const holders = await vipHolders(run, ctx.topology.roles.controller, ctx.topology.vips.internal);
      return holders.length > 1 ? `two VIP holders at once: ${holders.join(", ")}` : undefined;
    },
    async verify(ctx, injected) {
      // An isolated node that was not fenced may still hold the VIP and take writes on its side.
      return (await fencedInHistory(ctx, injected.target))
        ? []
        : [{ severity: "unsafe", message: `${injected.target} was not fenced` }];
    },
  },
  fenceCheck,
  underLoad,
  powerLoss,
  powerLossOneLost,
  controllerReplace,
];

export function drillById(id: string): DrillDef {
  const drill = drills.find((d) => d.id === id);
  if (!drill) {
    const names = drills.map((d) => d.id).join(", ");
    throw new HastackError("E_DRILL_UNKNOWN", `Unknown drill '${id}': the drills are ${names}`, {
      hint: `hastack drill <name>, name one of: ${names}`,
    });
  }
  return drill;
}
