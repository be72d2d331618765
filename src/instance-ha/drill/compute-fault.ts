/**
 * @module
 * The compute drills of issue #10 item 8: real VMs booted on one compute, each writing a marker
 * to its disk; a fault injected (faults.ts: the plug pulled, the BMC dead with the host, the
 * storage or the management network cut), with no word to hastack; then what the engine does by
 * itself, watched from outside as an operator would.
 * - A fault that calls for an evacuation: when each VM is ACTIVE on another compute, when each
 *   guest answers a ping there, whether its disk still holds its marker, and, from the engine's
 *   history, when it detected the failure and when and how the fence was confirmed. The host is
 *   restored at the end: the engine must re-enable it, and no domain may be left on it.
 * - A fault that must not move VMs: for a watch window no fence, no evacuation and every VM
 *   ACTIVE where it was, while the engine says why it holds; once healed, every guest answers
 *   there and runs nowhere else.
 * The servers and their network are deleted whatever happened.
 */
import { randomBytes } from "node:crypto";
import { checkLeft, roomFor, squeeze } from "./capacity-short.ts";
import {
  bootGuests,
  cleanupGuests,
  diskIntact,
  guestAnswers,
  guestNetwork,
  readServers,
  shortHost,
  sleep,
} from "./guests.ts";
import { type ComputeFaultReport, fromHistory, secondsBetween, type VmOutcome, verdictOf } from "./report.ts";
import { restoreHost } from "./restore.ts";
import { evacuatedOnce, midway } from "./takeover.ts";
import type { DrillDeps, DrillOptions, Watch } from "./types.ts";

export type { DrillDeps, DrillOptions } from "./types.ts";

export async function computeFaultDrill(deps: DrillDeps, o: DrillOptions): Promise<ComputeFaultReport> {
  const { admin, fault } = deps;
  const tag = `hadrill-${randomBytes(3).toString("hex")}`;
  const timeline: string[] = [];
  const problems: string[] = [];
  let off = new Date();
  const note = (line: string) => {
    const stamped = `${secondsBetween(off, new Date()).toFixed(1).padStart(6)} s  ${line}`;
    timeline.push(stamped);
    deps.log?.(stamped);
  };
  let vms: VmOutcome[] = [];
  let tokens = new Map<string, string>();
  let networkId = "";
  let injected = false;
  let watchedS: number | undefined;
  let release: (() => Promise<void>) | undefined;
  try {
    networkId = await guestNetwork(admin, tag);
    ({ vms, tokens } = await bootGuests(deps, {
      tag,
      host: o.host,
      count: o.vms,
      image: o.image,
      flavor: o.flavor,
    }));
    if (fault.expect.evacuate && fault.expect.squeezed) {
      if (!deps.room)
        throw new Error(`Cannot run ${fault.drill}: the drill was given no Placement to hold room in`);
      const squeezed = await squeeze(deps, deps.room, { host: o.host, vms, room: roomFor(vms.length) });
      release = squeezed.release;
      deps.log?.(`        ${squeezed.line}`);
      timeline.push(`   0.0 s  ${squeezed.line}`);
    }
    off = new Date();
    injected = true;
    note(await fault.inject(o.host));
    if (!fault.expect.evacuate) watchedS = await watchHold(deps, o, { tag, off, vms, note, problems });
    else {
      await Promise.all([
        watchEvacuation(deps, o, { tag, off, vms, tokens, networkId, note, problems }),
        fault.midway
          ? midway(deps, o.host, off, note).catch((e: unknown) =>
              problems.push(e instanceof Error ? e.message : String(e)),
            )
          : undefined,
      ]);
      if (fault.midway) problems.push(...(await evacuatedOnce(deps, vms, o.host, off)));
      if (release) problems.push(...(await checkLeft(deps, { host: o.host, tag, vms, off, note })));
    }
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  await release?.().catch((e: unknown) =>
    problems.push(
      `the drill's memory holds in Placement were not all released: ${e instanceof Error ? e.message : String(e)}`,
    ),
  );

  const history = fromHistory(
    off,
    await deps.history(o.host, new Date(off.getTime() - 1000)).catch(() => []),
  );
  let back: Awaited<ReturnType<typeof restoreHost>> = {};
  try {
    if (injected) back = await restoreHost(deps, o, { tag, vms, networkId, note, problems });
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    await cleanupGuests(admin, tag);
  }

  const moved = vms.filter((v) => !v.stays);
  const active = moved.map((v) => v.activeS);
  const answering = moved.map((v) => v.answeringS);
  const all = (xs: (number | undefined)[]) =>
    xs.length > 0 && xs.every((x) => x !== undefined) ? Math.max(...(xs as number[])) : undefined;
  if (fault.expect.evacuate) {
    if (history.detectedS === undefined) problems.push(`the engine's history has no failure of ${o.host}`);
    if (history.fencedS === undefined)
      problems.push(`the engine's history has no confirmed fence of ${o.host}`);
    else if (history.fenceMethod !== fault.expect.fenceMethod)
      problems.push(`${o.host} was fenced by ${history.fenceMethod}, not ${fault.expect.fenceMethod}`);
    const firstActive = Math.min(...active.filter((x): x is number => x !== undefined));
    if (history.fencedS !== undefined && firstActive < history.fencedS)
      problems.push(
        `a VM was ACTIVE elsewhere (${firstActive} s) before the fence was confirmed (${history.fencedS} s)`,
      );
  } else if (history.heldS === undefined)
    problems.push(
      `the engine's history does not say why it left ${o.host}'s VMs where they were (${fault.expect.hold === "valve" ? "the valve closed" : "an alert"} was due)`,
    );
  const detectedS = fault.expect.evacuate ? history.detectedS : history.heldS;
  const report = {
    drill: fault.drill,
    host: o.host,
    expectEvacuation: fault.expect.evacuate,
    vms,
    offAt: off.toISOString(),
    ...(detectedS === undefined ? {} : { detectedS }),
    ...(history.fencedS === undefined ? {} : { fencedS: history.fencedS }),
    ...(history.fenceMethod === undefined ? {} : { fenceMethod: history.fenceMethod }),
    ...(all(active) === undefined ? {} : { allActiveS: all(active) }),
    ...(all(answering) === undefined ? {} : { allAnsweringS: all(answering) }),
    ...back,
    ...(watchedS === undefined ? {} : { watchedS }),
    timeline: mergeTimelines(history.lines, timeline),
    problems,
  };
  return { ...report, verdict: verdictOf(report) };
}

/** Every VM ACTIVE on another compute, answering there, its disk marker found. */
async function watchEvacuation(
  deps: DrillDeps,
  o: DrillOptions,
  w: Watch & { tokens: Map<string, string>; networkId: string },
): Promise<void> {
  const { vms, off, note, problems } = w;
  const deadline = Date.now() + (o.evacuateTimeoutMs ?? 300_000);
  // compute-capacity-short: those with no room must stay; any of them moved instead of one that
  // ranks higher is a priority not kept.
  const movers = vms.filter((v) => !v.stays);
  while (Date.now() < deadline && movers.some((v) => v.activeS === undefined)) {
    for (const row of await where(deps, w.tag, vms)) {
      const vm = vms.find((v) => v.id === row.id);
      const to = row.host;
      if (vm && vm.activeS === undefined && row.active && to && to !== o.host) {
        vm.activeS = secondsBetween(off, new Date());
        vm.to = to;
        note(`${vm.name}${vm.priority === undefined ? "" : ` (priority ${vm.priority})`} ACTIVE on ${to}`);
        if (vm.stays)
          problems.push(
            `${vm.name} (priority ${vm.priority}) was evacuated ahead of a VM of higher priority`,
          );
      }
    }
    await sleep(1000);
  }
  for (const vm of movers.filter((v) => v.activeS === undefined))
    problems.push(`${vm.name} (${vm.id}) was not ACTIVE on another compute within the drill's wait`);
  await Promise.all(
    vms
      .filter((v) => v.to)
      .map(async (vm) => {
        if (!(await guestAnswers(deps, vm, vm.to as string, w.networkId))) return;
        vm.answeringS = secondsBetween(off, new Date());
        note(`${vm.name} answers a ping on ${vm.to}`);
      }),
  );
  for (const vm of vms.filter((v) => v.to)) {
    vm.diskIntact = await diskIntact(deps, vm.to as string, vm, w.tokens.get(vm.id) ?? "");
    if (!vm.diskIntact) problems.push(`${vm.name}: its disk marker was not found after the evacuation`);
  }
}

/** Where each VM not yet seen ACTIVE elsewhere is: ACTIVE with no task left means settled on its host. */
async function where(
  deps: DrillDeps,
  tag: string,
  vms: readonly VmOutcome[],
): Promise<{ id: string; active: boolean; host: string | undefined }[]> {
  const read = await readServers(
    deps.nova,
    tag,
    vms.filter((v) => v.activeS === undefined),
  );
  return read.flatMap(({ server: s }) =>
    s ? [{ id: s.id, active: s.status === "ACTIVE" && s.taskState === null, host: shortHost(s.host) }] : [],
  );
}

/** For the watch window: no fence, no evacuation, every VM ACTIVE where it was. Returns the seconds watched. */
async function watchHold(deps: DrillDeps, o: DrillOptions, w: Watch): Promise<number> {
  const { vms, off, note, problems } = w;
  const until = Date.now() + (o.holdMs ?? 90_000);
  const seen = new Set<string>();
  const problem = (key: string, text: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    problems.push(text);
    note(`PROBLEM: ${text}`);
  };
  while (Date.now() < until) {
    for (const { vm, server } of await readServers(deps.nova, w.tag, vms)) {
      const at = shortHost(server?.host);
      if (server?.status !== "ACTIVE" || at !== o.host)
        problem(
          vm.id,
          `${vm.name} is ${server?.status ?? "gone"} on ${at ?? "no host"} (it had to stay ACTIVE on ${o.host})`,
        );
    }
    // Every host the fault touched (compute-mass-poweroff powers off several): none may be fenced.
    for (const host of deps.fault.hosts(o.host)) {
      const acted = (await deps.history(host, off).catch(() => [])).filter(
        (e) => e.kind === "fence" || e.kind === "evacuation",
      );
      for (const e of acted) problem(`event-${e.id}`, `the engine acted on ${host}: ${e.kind}: ${e.detail}`);
    }
    await sleep(2000);
  }
  const watchedS = secondsBetween(off, new Date());
  note(
    `watched ${watchedS} s: ${seen.size === 0 ? `no fence, no evacuation, ${vms.length} VM(s) ACTIVE on ${o.host}` : "see the problems"}`,
  );
  return watchedS;
}

/** The engine's lines and the drill's, in time order (both start with "<seconds> s"). */
function mergeTimelines(a: readonly string[], b: readonly string[]): string[] {
  return [...a, ...b].sort((x, y) => Number.parseFloat(x) - Number.parseFloat(y));
}
