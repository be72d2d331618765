/**
 * @module
 * What the scrape reads of the engine as it is now (source.ts): heartbeat ages, hosts per phase,
 * the verifier's packet counts, whether this engine is the acting one.
 */
import { DROP_REASONS } from "../heartbeat.ts";
import { PHASES } from "../store-rows.ts";
import type { MetricFamily, Sample } from "./exposition.ts";
import type { HaSource } from "./source.ts";

export function gaugeFamilies(source: HaSource): MetricFamily[] {
  const now = source.now();
  const ages: Sample[] = [];
  for (const [host, view] of source.heartbeats())
    for (const [network, seen] of Object.entries(view))
      if (seen) ages.push({ labels: { host, network }, value: (now - seen.at) / 1000 });

  const perPhase = new Map<string, number>(PHASES.map((p) => [p, 0]));
  const inPhase: Sample[] = [];
  for (const [host, s] of source.states()) {
    perPhase.set(s.phase, (perPhase.get(s.phase) ?? 0) + 1);
    inPhase.push({ labels: { host, phase: s.phase }, value: (now - s.since) / 1000 });
  }

  const families: MetricFamily[] = [
    {
      name: "hastack_ha_heartbeat_age_seconds",
      help: "Seconds since the last verified heartbeat of each compute over each network",
      type: "gauge",
      samples: ages,
    },
    {
      name: "hastack_ha_hosts",
      help: "Computes per phase of the engine's state machine",
      type: "gauge",
      samples: [...perPhase].map(([phase, value]) => ({ labels: { phase }, value })),
    },
    {
      name: "hastack_ha_host_phase_seconds",
      help: "Seconds each compute has been in its current phase (the phase as a label)",
      type: "gauge",
      samples: inPhase,
    },
    {
      name: "hastack_ha_engine_active",
      help: "1 when this engine is the acting one, 0 on a standby",
      type: "gauge",
      samples: [{ labels: {}, value: source.leader() ? 1 : 0 }],
    },
    {
      name: "hastack_ha_dry_run",
      help: "1 when the engine decides and records but never fences or evacuates",
      type: "gauge",
      samples: [{ labels: {}, value: source.dryRun ? 1 : 0 }],
    },
  ];
  const stats = source.verifier?.();
  if (stats)
    families.push(
      {
        name: "hastack_ha_heartbeats_accepted_total",
        help: "Heartbeat packets that passed every check, since the engine started",
        type: "counter",
        samples: [{ labels: {}, value: stats.accepted }],
      },
      {
        name: "hastack_ha_heartbeats_dropped_total",
        help: "Heartbeat packets dropped, by reason (forged, replayed, unknown-host...), since the engine started",
        type: "counter",
        samples: DROP_REASONS.map((reason) => ({ labels: { reason }, value: stats.drops[reason] })),
      },
    );
  return families;
}
