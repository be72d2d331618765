import { completedAt, parseCrmMon, parseFenceHistory } from "../../hostkit/crm-mon.ts";
import { vipHolders } from "../../services/vip/index.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLines } from "../../util/text.ts";
import type { DrillContext } from "./types.ts";

/** What drills do to hosts before and after a fault; every command's exit code is checked. */

/** The holder of a VIP (the internal one unless named) as seen from the hosts themselves. */
export async function holderOf(ctx: DrillContext, vip = ctx.topology.vips.internal): Promise<string> {
  const run = (host: string, argv: string[]) => ctx.injector.observe(host, argv);
  const holders = await vipHolders(run, ctx.topology.roles.controller, vip);
  if (holders.length !== 1) {
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      `Cannot start the drill: the VIP ${vip} is held by ${holders.length === 0 ? "nobody" : holders.join(" and ")}`,
      { hint: "run `hastack status` and fix the VIP first" },
    );
  }
  return holders[0] as string;
}

/** The writer HAProxy sends SQL to: the first controller (the others are `backup`). */
export function sqlWriter(ctx: DrillContext): string {
  return ctx.topology.roles.controller[0] as string;
}

/** A controller other than `host`, to ask the cluster about `host`. */
export function survivorOf(ctx: DrillContext, host: string): string {
  return ctx.topology.roles.controller.find((h) => h !== host) ?? host;
}

/** Runs a command on a host and throws, naming what it was for, when it fails or exits non-zero. */
export async function mustRun(
  ctx: DrillContext,
  host: string,
  argv: string[],
  what: string,
  timeoutMs = 60_000,
): Promise<string> {
  const result = await ctx.pool.get(host).exec(argv, { timeoutMs });
  if (result.code !== 0) {
    throw new HastackError(
      "E_DRILL_RESTORE",
      `Cannot ${what} on ${host}: ${argv.join(" ")} exited with code ${result.code}: ${lastLines(result.stderr || result.stdout, 3)}`,
    );
  }
  return result.stdout;
}

/**
 * Brings a host back after a power drill: power on, then start the cluster stack if it did not.
 * With `faultAt` (Date.now() when the fault began), first waits for the cluster's fence of the
 * host to finish: see waitFenceSettled.
 */
export async function powerBack(ctx: DrillContext, host: string, faultAt?: number): Promise<void> {
  if (faultAt !== undefined) await waitFenceSettled(ctx, host, faultAt);
  if ((await ctx.injector.powerStatus(host)) === "off") await ctx.injector.powerOn(host);
  await startClusterStack(ctx, host);
}

/**
 * Waits (up to `timeoutMs`) until the cluster has finished fencing `host` after the fault: no
 * fence of it pending, and one that ended (done or failed) after `faultAt`. Powering the host on
 * while a fence agent is at work races the agent: its power-off is undone, its wait for "off"
 * never ends, and the fence fails after its 60 s timeout, which status then reports. Seen with
 * keepalived (session 5): the VIP moved in 0.5 s, the drill restored power at once, and Pacemaker's
 * own fence of the lost node (after its random delay) was still running. Never fatal: the host
 * must come back either way, and a fence that did fail shows in status.
 */
export async function waitFenceSettled(
  ctx: DrillContext,
  host: string,
  faultAt: number,
  timeoutMs = 120_000,
): Promise<void> {
  const asker = survivorOf(ctx, host);
  const deadline = Date.now() + timeoutMs;
  let last = "no fence of it in the cluster's history";
  while (Date.now() < deadline) {
    // --verbose: every recorded and pending operation, not only the last success.
    const r = await ctx.pool
      .get(asker)
      .exec(["stonith_admin", "--history", host, "--verbose", "--output-as=xml"], { timeoutMs: 30_000 })
      .catch(() => undefined);
    if (r?.code === 0) {
      try {
        const events = parseFenceHistory({ name: asker }, r.stdout).filter((e) => e.target === host);
        // Clocks of the controllers and of this machine may differ by a little (chrony).
        const ended = events.some(
          (e) =>
            e.status !== "pending" && e.completed !== undefined && completedAt(e.completed) >= faultAt - 5000,
        );
        if (events.some((e) => e.status === "pending")) last = "a fence of it is still in progress";
        else if (ended) return;
      } catch (error) {
        last = (error as Error).message;
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  ctx.log(`${host}: ${last} after ${timeoutMs / 1000} s (asked ${asker}); powering it on anyway`);
}

/**
 * Pacemaker keeps the failures a drill provoked (a fence attempt that timed out, a monitor that
 * failed while a peer was gone) until someone cleans them up, and status reports them as
 * degraded. A cleanup re-probes every resource, so a fault that is still there shows up again.
 * Not fatal: a leftover failure shows in status, which the runner waits on anyway.
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
  let last = "it does not answer over SSH";
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
      await clearDrillFailures(ctx, survivorOf(ctx, host));
      return;
    }
    if (result)
      last = `systemctl start corosync pacemaker exited with code ${result.code}: ${lastLines(result.stderr, 2)}`;
    if (Date.now() > deadline)
      throw new HastackError("E_DRILL_RESTORE", `Cannot bring ${host} back: ${last}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Waits until `host` is online in Pacemaker as a survivor sees it; returns how long that took. */
export async function waitRejoined(ctx: DrillContext, host: string, timeoutMs = 180_000): Promise<number> {
  const started = performance.now();
  const asker = survivorOf(ctx, host);
  let last = "no answer";
  while (performance.now() - started < timeoutMs) {
    const r = await ctx.pool
      .get(asker)
      .exec(["crm_mon", "--output-as=xml", "--one-shot"], { timeoutMs: 20_000 })
      .catch(() => undefined);
    if (r?.code === 0) {
      // An answer that is not crm_mon's shape (a node mid-restart) is one more reason to wait.
      try {
        const node = parseCrmMon({ name: asker }, r.stdout).nodes.find((n) => n.name === host);
        if (node?.state === "online") return performance.now() - started;
        last = node ? node.state : "not a member";
      } catch (error) {
        last = (error as Error).message;
      }
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new HastackError(
    "E_DRILL_RESTORE",
    `Cannot see ${host} rejoin the cluster: still ${last} after ${timeoutMs / 1000} s (asked ${asker})`,
  );
}

/** Whether the cluster's fence history on a survivor holds a successful fence of `host`. */
export async function fencedInHistory(ctx: DrillContext, host: string): Promise<boolean> {
  const history = await ctx.pool
    .get(survivorOf(ctx, host))
    .exec(["stonith_admin", "--history", host, "--output-as=xml"], { timeoutMs: 30_000 });
  if (history.code !== 0) return false;
  return parseFenceHistory({ name: survivorOf(ctx, host) }, history.stdout).some(
    (e) => e.target === host && e.status === "success",
  );
}
