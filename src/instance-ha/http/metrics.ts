/**
 * @module
 * The engine's counters and durations, derived from what it writes to its history: the
 * collector wraps the engine's EngineHistory and passes every call through, so the engine needs
 * no change and the metrics say exactly what the history says.
 *
 * What the events carry (engine.ts, engine-steps.ts, store-mapping.ts):
 * - phase events (`phaseFrom`, `phaseTo`, at the evaluation's wall clock): durations come from
 *   their timestamps, per host and episode;
 * - a finished fence: kind "fence", `data.ok`; the method of a confirmed one is in the host's
 *   snapshot written when it enters `fenced` (`fenceMethod`), so a confirmed fence is counted there;
 * - a finished evacuation: kind "evacuation", `data.outcome` and `data.failed`;
 * - a gate's verdict: kind "gate", `data.act`, and `data.gate` only when a gate stopped it;
 *   recorded once per change of verdict (the engine says a closed gate once, not every second).
 */
import type { EngineHistory } from "../engine-actions.ts";
import type { GateName } from "../gates.ts";
import type { RespondOutcome } from "../respond.ts";
import type { HaEvent, HostSnapshot } from "../store-rows.ts";
import type { MetricFamily } from "./exposition.ts";
import { createCounter, createHistogram } from "./instruments.ts";

// Records, so a gate or an outcome added to its union without a line here fails to compile.
const GATES: Record<GateName, true> = {
  valve: true,
  "control-plane": true,
  "cycle-limit": true,
  "dry-run": true,
  quorum: true,
  backoff: true,
};
const OUTCOMES: Record<RespondOutcome, true> = {
  planned: true,
  "not-fenced": true,
  evacuated: true,
  partial: true,
};

export interface HaMetrics {
  /** The engine's history with every entry and snapshot also counted; give this to createEngine. */
  observeHistory(inner: EngineHistory): EngineHistory;
  /** One history entry counted (observeHistory calls it). */
  observe(event: HaEvent): void;
  /** One host snapshot counted (observeHistory calls it). */
  observeSnapshot(snapshot: HostSnapshot): void;
  families(): MetricFamily[];
}

/** Per host: when the current episode's steps happened (ms since the epoch). */
interface Episode {
  suspectAt?: number;
  fencedAt?: number;
}

export function createHaMetrics(): HaMetrics {
  const fences = createCounter(
    "hastack_ha_fences_total",
    "Fences finished, by method (unknown for a fence not confirmed: the history does not say which means were tried) and outcome",
    [
      { method: "power", outcome: "confirmed" },
      { method: "storage", outcome: "confirmed" },
      { method: "unknown", outcome: "failed" },
    ],
  );
  const gateBlocks = createCounter(
    "hastack_ha_gate_blocks_total",
    "Gate verdicts that stopped a fence or an evacuation, by gate; recorded once per change of verdict, not per evaluation",
    Object.keys(GATES).map((gate) => ({ gate })),
  );
  const evacuations = createCounter(
    "hastack_ha_evacuations_total",
    "Evacuations finished, by outcome (evacuated: every planned VM ACTIVE elsewhere; partial: some failed or fit nowhere)",
    Object.keys(OUTCOMES).map((outcome) => ({ outcome })),
  );
  const transitions = createCounter(
    "hastack_ha_transitions_total",
    "Phase changes of the computes, by the phase entered",
  );
  const errors = createCounter(
    "hastack_ha_metrics_observe_errors_total",
    "History entries the metrics could not read (a bug; the entry was still written)",
    [{}],
  );
  const detection = createHistogram(
    "hastack_ha_detection_seconds",
    "From a compute's first bad evaluation (suspect) to failed, per episode; the silence before the first bad evaluation (silence_ms) comes on top",
  );
  const evacuation = createHistogram(
    "hastack_ha_evacuation_seconds",
    "From a compute's fence confirmed (fenced) to its evacuation finished, by outcome (evacuated: every VM ACTIVE); not observed for one fenced before a takeover",
  );
  const episodes = new Map<string, Episode>();

  function episode(host: string): Episode {
    let e = episodes.get(host);
    if (!e) {
      e = {};
      episodes.set(host, e);
    }
    return e;
  }

  function onPhase(host: string, event: HaEvent): void {
    const to = event.phaseTo;
    if (to === undefined) return;
    transitions.inc({ phase: to });
    const at = event.at.getTime();
    const e = episode(host);
    if (to === "suspect" && event.phaseFrom === "healthy") e.suspectAt = at;
    else if (to === "failed" && event.phaseFrom === "suspect" && e.suspectAt !== undefined) {
      detection.observe({}, (at - e.suspectAt) / 1000);
      e.suspectAt = undefined;
    } else if (to === "fenced") e.fencedAt = at;
    else if (to === "healthy" || to === "disabled") episodes.delete(host);
  }

  function observe(event: HaEvent): void {
    const data = event.data ?? {};
    const host = event.host;
    if (event.kind === "phase" && host !== undefined) onPhase(host, event);
    else if (event.kind === "gate" && typeof data.gate === "string") gateBlocks.inc({ gate: data.gate });
    else if (event.kind === "fence" && data.ok === false)
      fences.inc({ method: "unknown", outcome: "failed" });
    else if (event.kind === "evacuation" && typeof data.outcome === "string") {
      evacuations.inc({ outcome: data.outcome });
      const fencedAt = host === undefined ? undefined : episodes.get(host)?.fencedAt;
      if (fencedAt !== undefined)
        evacuation.observe({ outcome: data.outcome }, (event.at.getTime() - fencedAt) / 1000);
    }
  }

  function observeSnapshot(s: HostSnapshot): void {
    if (s.phase === "fenced" && s.fenceMethod !== undefined)
      fences.inc({ method: s.fenceMethod, outcome: "confirmed" });
  }

  /** A metrics bug must never cost the history its entry: counted, and the write goes on. */
  function guarded(f: () => void): void {
    try {
      f();
    } catch {
      errors.inc();
    }
  }

  return {
    observe,
    observeSnapshot,
    observeHistory: (inner) => ({
      record(event) {
        guarded(() => observe(event));
        return inner.record(event);
      },
      upsertHost(snapshot) {
        guarded(() => observeSnapshot(snapshot));
        return inner.upsertHost(snapshot);
      },
      hosts: () => inner.hosts(),
    }),
    families: () => [
      fences.family(),
      gateBlocks.family(),
      evacuations.family(),
      transitions.family(),
      detection.family(),
      evacuation.family(),
      errors.family(),
    ],
  };
}
