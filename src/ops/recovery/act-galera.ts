/**
 * @module
 * Carries out a Galera plan (galera-plan.ts) over the Transport. A bootstrap marks only the
 * chosen node safe_to_bootstrap, starts it the way hastack's own galera service does
 * (`galera_new_cluster`: the unit's galera_recovery passes the position InnoDB recovered, so no
 * commit is dropped and the history keeps its uuid; fixtures/README.md saw the other way start a
 * new history), waits until it is Primary and Synced, then starts the others one at a time, each
 * waited for until Synced: two joiners asking the one donor for an SST at once would both wait.
 */
import { globalStatus } from "../../hostkit/sql.ts";
import { HastackError } from "../../util/errors.ts";
import { type ActContext, runStep, type Seen, waitUntil } from "./act-step.ts";
import { MARIADB_UNIT } from "./collect-galera.ts";
import type { GaleraNode } from "./galera-facts.ts";
import type { GaleraFacts, GaleraPlan, JoinStep } from "./galera-plan.ts";
import { GRASTATE_PATH, parseGrastate, parseWsrepStatus, WSREP_VARIABLES } from "./galera-state.ts";

/** As services/galera/steps.ts gives it: the unit's start runs galera_recovery first. */
const NEW_CLUSTER_MS = 240_000;

/** Only the `safe_to_bootstrap: 0` line changes; Galera pads the file, the rest stays as it is. */
export const MARK_SAFE_ARGV = [
  "sed",
  "-i",
  "s/^safe_to_bootstrap:[[:space:]]*0[[:space:]]*$/safe_to_bootstrap: 1/",
  GRASTATE_PATH,
];

/** On a node that runs and answers: it becomes the Primary Component, without a restart. */
export const PC_BOOTSTRAP_SQL = "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'";

export async function actGalera(plan: GaleraPlan, facts: GaleraFacts, ctx: ActContext): Promise<void> {
  if (plan.kind === "bootstrap") {
    const node = facts.nodes.find((n) => n.host === plan.from);
    if (!node || node.state === "unreachable")
      throw new HastackError(
        "E_RECOVER_STEP",
        `Cannot bootstrap galera on ${plan.from}: it is not in the facts`,
      );
    // The others' waiting mariadbds stop first. One left running gossips its old view to the new
    // Primary, and stopping it during that merge left the bootstrapped node in EVS GATHER until
    // it gave its Primary up ("failed to form singleton view after exceeding
    // max_install_timeouts", lab, 2026-12-03): the joiner then waited forever.
    // They stop side by side, with the node to bootstrap when galera_new_cluster needs it stopped:
    // one after the other, two silent mariadbds cost two graces (40-61 s of a lab run, 2026-12-05).
    const restartFrom = plan.method !== "pc-bootstrap" && node.state === "running";
    await Promise.all([
      ...plan.join.map((j) => stopJoiner(ctx, j, facts)),
      ...(restartFrom ? [stopMariadb(ctx, plan.from, answers(facts, plan.from))] : []),
    ]);
    if (plan.method === "pc-bootstrap") await pcBootstrap(ctx, plan.from);
    else await newCluster(ctx, node, restartFrom);
    await waitUntil(
      ctx,
      plan.from,
      "wait for the bootstrapped node to be Primary and Synced",
      ctx.timing.bootstrapMs,
      () => synced(ctx, plan.from),
    );
    for (const j of plan.join) await join(ctx, j);
  } else if (plan.kind === "join")
    // A Primary runs already and no bootstrap can meet a stale view: each joiner is stopped only
    // when its turn comes, as before (the up-front stop was found, and proven, for a bootstrap).
    for (const j of plan.join) {
      await stopJoiner(ctx, j, facts);
      await join(ctx, j);
    }
  // healthy, wait: nothing to do; refuse never gets here (recover-act.ts).
}

async function pcBootstrap(ctx: ActContext, host: string): Promise<void> {
  await runStep(ctx, host, "bootstrap galera (pc.bootstrap)", ["mariadb", "-N", "-B"], {
    stdin: `${PC_BOOTSTRAP_SQL};\n`,
    shown: `mariadb -N -B <<< "${PC_BOOTSTRAP_SQL}"`,
    timeoutMs: 30_000,
  });
}

/** `stopped`: it was running and has just been stopped (a mariadbd that runs holds the datadir). */
async function newCluster(
  ctx: ActContext,
  node: Exclude<GaleraNode, { state: "unreachable" }>,
  stopped: boolean,
): Promise<void> {
  const host = node.host;
  // The stop rewrites grastate.dat, so the mark is decided on the file as the stop left it.
  const grastate = stopped ? await readGrastate(ctx, host) : node.grastate;
  if (grastate && !grastate.safeToBootstrap) {
    await runStep(ctx, host, "mark grastate.dat safe_to_bootstrap: 1", MARK_SAFE_ARGV, { timeoutMs: 30_000 });
    // Read back: a sed that matched nothing exits 0 too, and galera_new_cluster would then refuse.
    const after = await readGrastate(ctx, host);
    if (!after?.safeToBootstrap) {
      const error = `Cannot mark grastate.dat safe_to_bootstrap: 1 on ${host}: ${GRASTATE_PATH} still says ${after ? "safe_to_bootstrap: 0" : "nothing (no file)"}`;
      ctx.journal.write({ type: "action", host, step: "check grastate.dat", status: "failed", error });
      throw new HastackError("E_RECOVER_STEP", error);
    }
  }
  await runStep(ctx, host, "bootstrap galera (galera_new_cluster)", ["galera_new_cluster"], {
    timeoutMs: NEW_CLUSTER_MS,
  });
}

async function readGrastate(ctx: ActContext, host: string) {
  const text = await ctx.transport(host).readFile(GRASTATE_PATH);
  return text === undefined ? undefined : parseGrastate(host, text.toString("utf8"));
}

/**
 * Grace for SIGTERM before SIGKILL. A mariadbd that never joined (it does not answer SQL: it
 * waits for peers) has no client and nothing to flush, yet ignored SIGTERM on the lab: `systemctl
 * stop` hung past 120 s on both survivors of a power cut (2026-12-03), and mariadb.service allows
 * 900 s. Killing it is a crash InnoDB recovers from at the next start, where galera_recovery
 * reads the same position again. One that answers SQL gets a minute to stop cleanly.
 */
export const STOP_GRACE_SILENT_MS = 5_000;
export const STOP_GRACE_ANSWERING_MS = 60_000;
const STOPPED = new Set(["inactive", "failed"]);

async function activeState(ctx: ActContext, host: string): Promise<string> {
  const r = await ctx.transport(host).exec(["systemctl", "show", MARIADB_UNIT, "-p", "ActiveState"], {
    timeoutMs: 15_000,
  });
  return /^ActiveState=(\S+)/m.exec(r.stdout)?.[1] ?? "unknown";
}

/** Stops MariaDB within a bound: SIGTERM (systemd's stop, not waited on), then SIGKILL after the grace. */
export async function stopMariadb(ctx: ActContext, host: string, answering: boolean): Promise<void> {
  await runStep(ctx, host, "stop galera", ["systemctl", "stop", "--no-block", MARIADB_UNIT], {
    timeoutMs: 30_000,
  });
  const grace = answering ? STOP_GRACE_ANSWERING_MS : STOP_GRACE_SILENT_MS;
  const deadline = ctx.timing.now() + grace;
  while (ctx.timing.now() < deadline) {
    if (STOPPED.has(await activeState(ctx, host))) return;
    await ctx.timing.sleep(ctx.timing.pollMs);
  }
  await runStep(
    ctx,
    host,
    `kill mariadbd, still running ${Math.round(grace / 1000)} s after SIGTERM`,
    ["systemctl", "kill", "--signal=SIGKILL", MARIADB_UNIT],
    { timeoutMs: 30_000 },
  );
  await waitUntil(ctx, host, "wait for the killed mariadbd to be gone", 60_000, async () => {
    const state = await activeState(ctx, host);
    return { done: STOPPED.has(state), seen: `mariadb ${state}` };
  });
}

/** Whether the node answered SQL when the facts were read (it then gets a clean stop's grace). */
function answers(facts: GaleraFacts, host: string): boolean {
  const node = facts.nodes.find((n) => n.host === host);
  return node !== undefined && "wsrep" in node && node.wsrep !== undefined;
}

/** A joiner to restart is stopped before anything starts it; the others are left as they are. */
async function stopJoiner(ctx: ActContext, j: JoinStep, facts: GaleraFacts): Promise<void> {
  if (j.how === "restart") await stopMariadb(ctx, j.host, answers(facts, j.host));
}

/** One joiner, stopped already if it was to be restarted: started unless it joins by itself, then waited for. */
async function join(ctx: ActContext, j: JoinStep): Promise<void> {
  if (j.how !== "automatic")
    await runStep(ctx, j.host, "start galera to join", ["systemctl", "start", MARIADB_UNIT], {
      // mariadb.service is Type=notify: start returns once the node joined (after its SST).
      timeoutMs: ctx.timing.joinMs,
    });
  await waitUntil(ctx, j.host, "wait for the joining node to be Synced", ctx.timing.joinMs, () =>
    synced(ctx, j.host),
  );
}

/** Primary and Synced; anything else (not answering SQL, Joiner, non-Primary) is not yet. */
export async function synced(ctx: ActContext, host: string): Promise<Seen> {
  const status = await globalStatus(ctx.transport(host), WSREP_VARIABLES, { timeoutMs: 15_000 });
  if (status === undefined) return { done: false, seen: "MariaDB does not answer SQL" };
  const s = parseWsrepStatus(host, Object.entries(status));
  return {
    done: s.clusterStatus === "Primary" && s.localState === "Synced",
    seen: `${s.clusterStatus}, ${s.localState}, seqno ${s.position.seqno}, cluster size ${s.clusterSize}`,
  };
}
