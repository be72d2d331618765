/**
 * @module
 * Declarative steps for the common cases, so a service writes data, not code:
 *
 *   steps: () => [
 *     unitsRunning({ id: "start", title: "start memcached", on: "each" }, ["memcached"]),
 *     unitsDisabled({ id: "no-boot", title: "leave haproxy to Pacemaker", on: "each" }, ["haproxy"]),
 *     command({ id: "bootstrap", title: "bootstrap galera", on: "bootstrap" }, ["galera_new_cluster"],
 *       { unless: ["mysql", "-e", "select 1"] }),
 *   ]
 */
import { isActive, isEnabled, type SystemctlVerb, systemctl } from "../hostkit/systemd.ts";
import type { StepContext, StepSpec } from "../services/types.ts";
import type { Transport } from "../transport/types.ts";

/** StepSpec minus what an action provides. */
export type StepBase = Omit<StepSpec, "check" | "apply">;

export interface Action {
  check(ctx: StepContext): Promise<boolean>;
  apply(ctx: StepContext): Promise<void>;
}

/** One step from several actions: in the wanted state when all are; applies only those that are not. */
export function fromActions(base: StepBase, actions: readonly Action[]): StepSpec {
  return {
    ...base,
    async check(ctx) {
      for (const a of actions) if (!(await a.check(ctx))) return false;
      return true;
    },
    async apply(ctx) {
      for (const a of actions) if (!(await a.check(ctx))) await a.apply(ctx);
    },
  };
}

export interface CommandGuard {
  /** Skip when this command exits 0. */
  unless?: string[] | string;
  /** Skip when this path exists on the host. */
  creates?: string;
}

/** A command; without a guard it runs on every deploy (and always counts as a change). */
export function command(base: StepBase, argv: string[] | string, guard: CommandGuard = {}): StepSpec {
  const checks: ((ctx: StepContext) => Promise<boolean>)[] = [];
  const { unless, creates } = guard;
  if (unless) checks.push((ctx) => ctx.test(unless));
  if (creates) checks.push((ctx) => ctx.test(["test", "-e", creates]));
  return {
    ...base,
    ...(checks.length > 0
      ? {
          async check(ctx: StepContext) {
            for (const c of checks) if (await c(ctx)) return true;
            return false;
          },
        }
      : {}),
    async apply(ctx) {
      await ctx.run(argv);
    },
  };
}

function unitAction(
  query: (t: Transport, unit: string) => Promise<boolean>,
  wanted: boolean,
  change: SystemctlVerb,
) {
  return (units: readonly string[]): Action => ({
    async check(ctx) {
      for (const u of units) if ((await query(ctx.transport, u)) !== wanted) return false;
      return true;
    },
    async apply(ctx) {
      await systemctl(ctx.transport, change, units, { signal: ctx.signal });
    },
  });
}

export const enabled = unitAction(isEnabled, true, "enable");
export const active = unitAction(isActive, true, "start");
export const disabled = unitAction(isEnabled, false, "disable");
export const inactive = unitAction(isActive, false, "stop");

/** Enabled at boot and running. */
export function unitsRunning(base: StepBase, units: string[]): StepSpec {
  return fromActions(base, [enabled(units), active(units)]);
}

/** Not started at boot (Pacemaker owns it); running state left alone. */
export function unitsDisabled(base: StepBase, units: string[]): StepSpec {
  return fromActions(base, [disabled(units)]);
}

export function unitsStopped(base: StepBase, units: string[]): StepSpec {
  return fromActions(base, [inactive(units), disabled(units)]);
}
