/**
 * @module
 * The engine-killed drill's parts: the second fault once the evacuation has started, and the
 * proof that it did no harm: no VM evacuated twice (Nova's own instance actions), and the
 * evacuation finished by another engine than the one that started it.
 */
import { z } from "zod";
import type { StoredEvent } from "../store.ts";
import { sleep, waitFor } from "./guests.ts";
import type { VmOutcome } from "./report.ts";
import type { DrillDeps } from "./types.ts";

/** Once the engine's history says the evacuation started, and its requests had 3 s to go out: the second fault. */
export async function midway(
  deps: DrillDeps,
  host: string,
  off: Date,
  note: (line: string) => void,
): Promise<void> {
  await waitFor(`the engine evacuating ${host}`, 120_000, async () =>
    (await deps.history(host, off).catch(() => [])).some(
      (e) => e.kind === "evacuation" && /^evacuating /.test(e.detail),
    ),
  );
  await sleep(3000);
  note(await (deps.fault.midway as (h: string) => Promise<string>)(host));
}

const ServerEvent = z.looseObject({ Action: z.string() });

/**
 * No VM evacuated twice, in Nova's own instance actions; and the evacuation finished by another
 * engine than the one that started it (the standby took over, from the history).
 */
export async function evacuatedOnce(
  deps: DrillDeps,
  vms: readonly VmOutcome[],
  host: string,
  off: Date,
): Promise<string[]> {
  const problems: string[] = [];
  for (const vm of vms) {
    const events = await deps.admin.json(["server", "event", "list", vm.id], z.array(ServerEvent));
    const evacuations = events.filter((e) => e.Action === "evacuate").length;
    if (evacuations !== 1)
      problems.push(`${vm.name} was evacuated ${evacuations} times (Nova's instance actions)`);
  }
  let history: StoredEvent[] = [];
  const finishedIn = (h: readonly StoredEvent[]) =>
    h.find((e) => e.kind === "evacuation" && e.data?.outcome !== undefined);
  await waitFor(`the end of ${host}'s evacuation in the engine's history`, 120_000, async () => {
    history = await deps.history(host, off).catch(() => []);
    return finishedIn(history) !== undefined;
  }).catch(() => undefined);
  const started = history.find((e) => e.kind === "evacuation" && /^evacuating /.test(e.detail));
  const finished = finishedIn(history);
  if (!started || !finished)
    problems.push(`the engine's history lacks the start or the end of ${host}'s evacuation`);
  else if (started.engine === finished.engine)
    problems.push(
      `${host}'s evacuation was started and finished by the same engine (${started.engine}): no takeover`,
    );
  return problems;
}
