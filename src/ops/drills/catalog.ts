import { vipHolders } from "../../services/vip/index.ts";
import { HastackError } from "../../util/errors.ts";
import type { DrillContext, DrillDef, Injected } from "./types.ts";

/** The VIP holder as seen from the hosts themselves. */
async function holderOf(ctx: DrillContext): Promise<string> {
  const run = (host: string, argv: string[]) => ctx.injector.observe(host, argv);
  const holders = await vipHolders(run, ctx.topology.roles.controller, ctx.topology.vips.internal);
  if (holders.length !== 1) {
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot start the drill: the VIP ${ctx.topology.vips.internal} is held by ${holders.length === 0 ? "nobody" : holders.join(" and ")}`,
      { hint: "run `hastack status` and fix the VIP first" },
    );
  }
  return holders[0] as string;
}

/** Brings a host back after a power drill: power on, then start the cluster stack if it did not. */
async function powerBack(ctx: DrillContext, host: string): Promise<void> {
  if ((await ctx.injector.powerStatus(host)) === "off") await ctx.injector.powerOn(host);
  await startClusterStack(ctx, host);
}

/**
 * Pacemaker keeps the failures a drill provoked (a fence attempt that timed out, a monitor that
 * failed while a peer was gone) until someone cleans them up, and status reports them as
 * degraded. A cleanup re-probes every resource, so a fault that is still there shows up again.
 */
async function clearDrillFailures(ctx: DrillContext, host: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const result = await ctx.pool
      .get(host)
      .exec(["crm_resource", "--cleanup"], { timeoutMs: 30_000 })
      .catch(() => undefined);
    if (result?.code === 0) return;
    // Pacemaker was just started: wait until it has joined and answers.
    await new Promise((r) => setTimeout(r, 2000));
  }
  ctx.log(`could not clear Pacemaker's failed actions from ${host}; status may show them`);
}

async function startClusterStack(ctx: DrillContext, host: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    // The fence of an isolated node may land after the heal (fencing takes seconds): a node
    // powered off meanwhile is powered on again here, or SSH would never answer.
    if ((await ctx.injector.powerStatus(host).catch(() => "on")) === "off") await ctx.injector.powerOn(host);
    const result = await ctx.pool
      .get(host)
      .exec(["systemctl", "start", "corosync", "pacemaker"], { timeoutMs: 30_000 })
      .catch(() => undefined);
    if (result?.code === 0) {
      // Asked of a controller that stayed in the cluster: a node whose Pacemaker just started
      // has not joined yet, and a cleanup there changes nothing.
      const survivor = ctx.topology.roles.controller.find((h) => h !== host) ?? host;
      await clearDrillFailures(ctx, survivor);
      return;
    }
    if (Date.now() > deadline)
      throw new HastackError("E_DRILL_RESTORE", `Cannot bring ${host} back: it does not answer over SSH`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The writer HAProxy sends SQL to: the first controller (the others are `backup`). */
function sqlWriter(ctx: DrillContext): string {
  return ctx.topology.roles.controller[0] as string;
}

export const drills: readonly DrillDef[] = [
  {
    id: "vip-holder-poweroff",
    title: "Hard power-off of the VIP holder",
    probe: "sql-read",
    goalMs: (t) => (t.vipManager === "keepalived" ? 1000 : 5000),
    async inject(ctx): Promise<Injected> {
      const target = await holderOf(ctx);
      await ctx.injector.powerOff(target);
      return {
        target,
        action: `powered off ${target} (the VIP holder) through its BMC`,
        restore: () => powerBack(ctx, target),
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
          await ctx.pool.get(target).exec(["crm_resource", "--cleanup", "--resource", "haproxy-clone"]);
        },
      };
    },
  },
  {
    id: "galera-node-kill",
    title: "Kill MariaDB on the node that takes the writes",
    probe: "sql-write",
    goalMs: (t) => (t.settings.haproxy.check.fall + 1) * t.settings.haproxy.check.inter_ms,
    async inject(ctx): Promise<Injected> {
      const target = sqlWriter(ctx);
      const result = await ctx.pool.get(target).exec(["systemctl", "kill", "--signal=SIGKILL", "mariadb"]);
      if (result.code !== 0)
        throw new HastackError("E_DRILL_INJECT", `Cannot kill mariadb on ${target}: ${result.stderr.trim()}`);
      return {
        target,
        action: `killed mariadbd (SIGKILL) on ${target}, the node HAProxy sends writes to`,
        restore: async () => {
          await ctx.pool.get(target).exec(["systemctl", "start", "mariadb"], { timeoutMs: 300_000 });
        },
      };
    },
    async verify(_ctx, _injected, facts) {
      return facts.acked.length === 0 ? ["no write was acknowledged during the drill"] : [];
    },
  },
  {
    id: "controller-isolate",
    title: "Cut the VIP holder off the management network",
    probe: "sql-read",
    goalMs: (t) => 5000 + t.settings.corosync.token_ms,
    async inject(ctx): Promise<Injected> {
      const target = await holderOf(ctx);
      await ctx.injector.isolate(target, "management");
      return {
        target,
        action: `cut ${target} (the VIP holder) off the management network`,
        restore: async () => {
          await ctx.injector.heal(target);
          await powerBack(ctx, target);
        },
      };
    },
    async watch(ctx) {
      const run = (host: string, argv: string[]) => ctx.injector.observe(host, argv);
      const holders = await vipHolders(run, ctx.topology.roles.controller, ctx.topology.vips.internal);
      return holders.length > 1 ? `two VIP holders at once: ${holders.join(", ")}` : undefined;
    },
    async verify(ctx, injected) {
      const history = await ctx.pool
        .get(ctx.topology.roles.controller.find((h) => h !== injected.target) ?? injected.target)
        .exec(["stonith_admin", "--history", injected.target, "--output-as=xml"]);
      return history.stdout.includes('status="success"') ? [] : [`${injected.target} was not fenced`];
    },
  },
];

export function drillById(id: string): DrillDef {
  const drill = drills.find((d) => d.id === id);
  if (!drill) {
    throw new HastackError("E_DRILL_UNKNOWN", `Cannot find drill '${id}'`, {
      hint: `drills: ${drills.map((d) => d.id).join(", ")}`,
    });
  }
  return drill;
}
