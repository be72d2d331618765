/**
 * @module
 * `hastack recover --auto`: the opt-in automatic mode. It reads the site's state every interval
 * and carries out the plan `hastack recover` would print, by itself, only when every one of
 * these holds:
 * - the plan acts (a refusal, "wait" and "healthy" change nothing);
 * - every controller nobody can reach is reported off by its BMC at that read: powered off
 *   (fenced, or its power lost). A fence in Pacemaker's history is not enough here, since the
 *   host may have been powered on since; an unknown power state never is;
 * - two reads in a row, at least `settleMs` apart, gave the same plan (hosts, seqnos, methods),
 *   so a controller still booting or a Galera still restoring its Primary Component by itself
 *   is waited for, and the second read is the one acted on;
 * - none of its actions (a Galera bootstrap, a RabbitMQ force boot, the cluster stack started on
 *   a host...) was carried out in the last `cooldownMs`: a site that needs the same again so soon
 *   is failing for a reason a recovery does not mend (a controller fenced again and again), and
 *   is left to the operator with an alert. Another action is not held back: the controller that
 *   was missing comes back later, and its cluster stack is started then.
 * Each decision that changes is printed and journalled with its reason.
 *
 * It runs on the machine that runs hastack, as a service (docs/recover.md), not on the
 * controllers: the decision needs every controller's state and the BMCs, which this machine
 * reaches with its pinned SSH keys; the controllers hold no SSH keys to each other.
 */
import type { RecoverJournal } from "./act-journal.ts";
import type { RecoveryFacts } from "./collect.ts";
import { planKey, planSummary } from "./plan-key.ts";
import { type RecoverReport, recoverReport } from "./recover-report.ts";

export interface AutoSettings {
  /**
   * Between two reads while there is nothing to do. A read runs RabbitMQ's Erlang CLI and
   * MariaDB's client on every controller: every 30 s, not every few seconds, on a healthy site.
   */
  intervalMs: number;
  /**
   * The least time between the two reads that must give the same plan; while a plan waits for
   * its second read, or a recovery was just carried out, the next read comes after this.
   */
  settleMs: number;
  /** After a recovery, how long a further one is left to the operator. */
  cooldownMs: number;
}

export const AUTO_DEFAULTS: AutoSettings = { intervalMs: 30_000, settleMs: 10_000, cooldownMs: 1_800_000 };

export type AutoDecision =
  | { kind: "idle"; reason: string }
  | { kind: "hold"; reason: string }
  | { kind: "act"; reason: string }
  | { kind: "alert"; reason: string };

/** What the watcher remembers between reads. */
export interface AutoMemory {
  /** The plan of the last read that acts, and when it was first read. */
  plan?: { key: string; at: number };
  /** When each action (actionKeys) was last carried out. */
  acted: Map<string, number>;
}

/** What a plan does, one key per action and host, for the cooldown. */
export function actionKeys(report: RecoverReport): string[] {
  const keys: string[] = [];
  const g = report.galera;
  if (g.kind === "bootstrap") keys.push("galera bootstrap");
  if (g.kind === "bootstrap" || g.kind === "join")
    for (const j of g.join) if (j.how === "restart") keys.push(`galera restart ${j.host}`);
  for (const a of report.rabbitmq.actions) keys.push(`rabbitmq ${a.kind} ${a.host}`);
  if (report.stack.kind === "start") for (const h of report.stack.hosts) keys.push(`stack start ${h}`);
  return keys;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/** The decision for one read; `memory` is updated for the next. Pure but for `memory`. */
export function autoDecision(
  report: RecoverReport,
  memory: AutoMemory,
  now: number,
  settings: AutoSettings,
): AutoDecision {
  if (report.verdict === "nothing-to-do") {
    delete memory.plan;
    return { kind: "idle", reason: "nothing to do: healthy, or Galera and RabbitMQ come back by themselves" };
  }
  if (report.verdict === "refused") {
    delete memory.plan;
    const halves = [
      ["Galera", report.galera],
      ["RabbitMQ", report.rabbitmq],
    ] as const;
    const why = halves.flatMap(([name, p]) =>
      p.kind === "refuse" ? [`${name}: ${p.reasons.join(" ")}`] : [],
    );
    return { kind: "hold", reason: `recover refuses. ${why.join(" ")}` };
  }
  const notOff = Object.entries(report.power).filter(([, p]) => p.power !== "off");
  if (notOff.length > 0) {
    delete memory.plan;
    return {
      kind: "hold",
      reason: `${notOff.map(([h, p]) => `${h}'s BMC says ${p.power}`).join(", ")}: the automatic mode acts only when every controller it cannot reach is reported off by its BMC`,
    };
  }
  const key = planKey(report);
  if (memory.plan?.key !== key) {
    memory.plan = { key, at: now };
    return { kind: "hold", reason: `a new plan (${planSummary(report)}): read again before acting` };
  }
  if (now - memory.plan.at < settings.settleMs)
    return {
      kind: "hold",
      reason: `the same plan for ${seconds(now - memory.plan.at)}: read again before acting`,
    };
  const again = actionKeys(report).flatMap((k) => {
    const at = memory.acted.get(k);
    return at !== undefined && now - at < settings.cooldownMs ? [k] : [];
  });
  if (again.length > 0)
    return {
      kind: "alert",
      // No elapsed time in it: the same alert is said once, not at every read.
      reason: `the plan (${planSummary(report)}) repeats what was carried out less than ${seconds(settings.cooldownMs)} ago: ${again.join(", ")}; left to the operator (hastack recover)`,
    };
  const missing = Object.keys(report.power);
  const off =
    missing.length > 0
      ? `${missing.join(", ")} off by ${missing.length > 1 ? "their BMCs" : "its BMC"}`
      : "every controller answers";
  return {
    kind: "act",
    reason: `the same plan on two reads ${seconds(now - memory.plan.at)} apart, ${off}: ${planSummary(report)}`,
  };
}

export interface AutoInput {
  collect(): Promise<RecoveryFacts>;
  /** Carries out the plan of `facts` (recoverAct with --yes on these facts); its exit code. */
  act(facts: RecoveryFacts): Promise<number>;
  journal: RecoverJournal;
  print(line: string): void;
  settings: AutoSettings;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Ends the watch after the current round. */
  signal?: AbortSignal;
}

/** Watches until `signal` aborts. A failed read or recovery is printed and the watch goes on. */
export async function recoverAuto(input: AutoInput): Promise<void> {
  const memory: AutoMemory = { acted: new Map() };
  let said = "";
  const say = (decision: AutoDecision) => {
    const line = `${decision.kind}: ${decision.reason}`;
    if (line === said) return;
    said = line;
    input.print(line);
    input.journal.write({ type: "auto", decision: decision.kind, reason: decision.reason });
  };
  while (!input.signal?.aborted) {
    let soon = false;
    let facts: RecoveryFacts | undefined;
    try {
      facts = await input.collect();
    } catch (error) {
      say({
        kind: "hold",
        reason: `cannot read the state: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    if (facts !== undefined) {
      const report = recoverReport(facts);
      const decision = autoDecision(report, memory, input.now(), input.settings);
      say(decision);
      soon = (decision.kind === "hold" && memory.plan !== undefined) || decision.kind === "act";
      if (decision.kind === "act") {
        for (const k of actionKeys(report)) memory.acted.set(k, input.now());
        delete memory.plan;
        try {
          const code = await input.act(facts);
          say({ kind: "idle", reason: `the recovery ended with exit code ${code}` });
        } catch (error) {
          say({
            kind: "alert",
            reason: `the recovery failed: ${error instanceof Error ? error.message : String(error)}; left to the operator`,
          });
        }
      }
    }
    const { intervalMs, settleMs } = input.settings;
    if (!input.signal?.aborted) await input.sleep(soon ? Math.min(intervalMs, settleMs) : intervalMs);
  }
}
