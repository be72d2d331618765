/**
 * @module
 * The power facts of the controllers nobody can reach: their BMC's `chassis power status`, asked
 * from a controller that answers (the path a fence device takes, as the fence-path check does),
 * and whether Pacemaker fenced them since they were lost. Nothing here throws for a silent BMC
 * or a Pacemaker that does not answer: each is "unknown" or "not fenced", with a note saying why,
 * and the decision treats both as no proof of "off".
 */
import { type CrmFenceEvent, completedAt, parseCrmMon, parseFenceHistory } from "../../hostkit/crm-mon.ts";
import {
  bmcEndpoint,
  describeIpmiFailure,
  ipmiOutcome,
  ipmitoolArgs,
  ipmitoolViaStdin,
} from "../../hostkit/ipmi.ts";
import type { ResolvedHost } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { lastLines } from "../../util/text.ts";
import { PROBE_MS } from "./reach.ts";
import type { PowerFacts } from "./types.ts";

export interface PowerInput {
  /** The controllers that cannot be reached, with their BMCs. */
  missing: readonly ResolvedHost[];
  /** Controllers that answered, in inventory order: they ask the BMCs and Pacemaker. */
  reachable: readonly string[];
  transport(host: string): Transport;
  /** The secret's value, or undefined when the secrets file lacks it. */
  secret(name: string): string | undefined;
  /** Per command. @default 20_000: ipmitool gives up on a silent BMC in ~6 s, SSH included. */
  timeoutMs?: number;
}

export interface CollectedPower {
  power: Record<string, PowerFacts>;
  /** Why a BMC or the fence history said nothing, per missing controller. */
  notes: string[];
}

const STATUS = ["chassis", "power", "status"];

export async function collectPower(input: PowerInput): Promise<CollectedPower> {
  const notes: string[] = [];
  const power: Record<string, PowerFacts> = {};
  // One missing controller after the other: there are one or two, and each asks at most a few.
  for (const target of input.missing) {
    const askers = input.reachable.filter((h) => h !== target.name);
    if (askers.length === 0)
      notes.push(`${target.name}: no reachable controller to ask its BMC or Pacemaker`);
    const state = await bmcPower(input, target, askers, notes);
    const fenced = await fencedSinceLost(input, target.name, askers, notes);
    power[target.name] = { power: state, fenced };
  }
  return { power, notes };
}

async function bmcPower(
  input: PowerInput,
  target: ResolvedHost,
  askers: readonly string[],
  notes: string[],
): Promise<PowerFacts["power"]> {
  const bmc = target.bmc;
  if (!bmc) {
    notes.push(`${target.name}: has no BMC in the inventory`);
    return "unknown";
  }
  const password = input.secret(bmc.password_secret);
  if (password === undefined) {
    notes.push(
      `${target.name}: BMC ${bmc.address} has no password: the secret ${bmc.password_secret} is missing`,
    );
    return "unknown";
  }
  const endpoint = bmcEndpoint(bmc);
  const { argv, stdin } = ipmitoolViaStdin(ipmitoolArgs(endpoint, STATUS, { verbose: true }), password);
  // The next controller is asked when one cannot reach the BMC: its path may be the broken one.
  for (const asker of askers) {
    const run = await input
      .transport(asker)
      .exec(argv, { stdin, timeoutMs: input.timeoutMs ?? 20_000 })
      .then(
        (r) => ({ ...r, timedOut: false }),
        (error: Error & { code?: string }) =>
          error.code === "E_COMMAND_TIMEOUT" ? { code: -1, stdout: "", stderr: "", timedOut: true } : error,
      );
    if (run instanceof Error) {
      notes.push(`${target.name}: could not ask its BMC from ${asker}: ${run.message}`);
      continue;
    }
    const outcome = ipmiOutcome(run, password, STATUS);
    if (outcome.ok && outcome.power) return outcome.power;
    if (!outcome.ok)
      notes.push(
        `${target.name}: BMC ${bmc.address} ${describeIpmiFailure(outcome.failure, endpoint, outcome.detail)} (asked from ${asker})`,
      );
  }
  return "unknown";
}

/**
 * Fenced since it was lost: Pacemaker does not list it as unclean (lost, fence still owed), no
 * fence of it is pending, and the newest finished fence of it is a successful off or reboot. A
 * node fenced once, back, and lost again is unclean and fenced again: the old success is not
 * the newest then. Not covered: a node that rejoined after its last fence and then left cleanly
 * (a clean stop owes no fence). Its BMC, when it answers, still has the last word on "on".
 */
async function fencedSinceLost(
  input: PowerInput,
  target: string,
  askers: readonly string[],
  notes: string[],
): Promise<boolean> {
  for (const asker of askers) {
    const t = input.transport(asker);
    const opts = { timeoutMs: input.timeoutMs ?? PROBE_MS };
    try {
      const history = await t.exec(
        ["stonith_admin", "--history", target, "--verbose", "--output-as=xml"],
        opts,
      );
      const mon = await t.exec(["crm_mon", "--output-as=xml", "--one-shot"], opts);
      if (history.code !== 0 || mon.code !== 0) {
        const failed = history.code !== 0 ? history : mon;
        notes.push(
          `${target}: Pacemaker on ${asker} did not answer (${history.code !== 0 ? "stonith_admin" : "crm_mon"} exit code ${failed.code}: ${lastLines(failed.stderr || failed.stdout, 1)})`,
        );
        continue;
      }
      const state = parseCrmMon(t, mon.stdout).nodes.find((n) => n.name === target)?.state;
      const events = parseFenceHistory(t, history.stdout).filter((e) => e.target === target);
      return judgeFence(target, state, events, notes);
    } catch (error) {
      notes.push(`${target}: cannot read Pacemaker's fence history on ${asker}: ${(error as Error).message}`);
    }
  }
  return false;
}

/** The verdict on one node's fence history; exported for its tests. */
export function judgeFence(
  target: string,
  state: string | undefined,
  events: readonly CrmFenceEvent[],
  notes: string[],
): boolean {
  if (state === "unclean") {
    notes.push(`${target}: Pacemaker lists it as unclean (lost, not fenced since)`);
    return false;
  }
  if (events.some((e) => e.status === "pending")) {
    notes.push(`${target}: a fence of it is still in progress`);
    return false;
  }
  const newest = events
    .filter((e) => e.completed !== undefined)
    .toSorted((a, b) => completedAt(b.completed ?? "") - completedAt(a.completed ?? ""))[0];
  if (!newest) return false;
  const ok = newest.status === "success" && (newest.action === "off" || newest.action === "reboot");
  if (!ok)
    notes.push(
      `${target}: its last fence (${newest.action}, ${newest.completed}) ${newest.status === "failed" ? `failed${newest.exitReason ? `: ${newest.exitReason}` : ""}` : "did not power it off"}`,
    );
  return ok;
}
