/**
 * @module
 * Which of the engine's history entries an operator must hear about, how loud, and under which
 * subject the rate limit counts them. Everything else the engine records (phase changes, gates
 * that let a fence through, a fence starting) is in the log and the history, not in a mailbox.
 */
import type { GateName } from "../gates.ts";
import type { EventKind, HaEvent } from "../store-rows.ts";
import type { Severity } from "./settings.ts";

export interface Alert {
  at: Date;
  host?: string;
  kind: EventKind;
  severity: Severity;
  /** What the rate limit counts by: `${kind}:${host or "site"}:${reason}`. */
  key: string;
  /** One line: the mail's subject and the webhook's `subject`. */
  title: string;
  /** The engine's sentence. */
  detail: string;
}

export interface AlertRules {
  /** The gates whose refusals are alerted (AlertSettings.gates). */
  gates: readonly GateName[];
}

/**
 * The valve and the control plane refuse for the whole site with one sentence for every host:
 * their subject has no host, so ten hosts held back by one outage are one mail.
 */
const SITE_WIDE: readonly GateName[] = ["valve", "control-plane"];

/** The alert for an entry, or undefined when it is not one an operator must hear about. */
export function alertFor(event: HaEvent, rules: AlertRules): Alert | undefined {
  const data = event.data ?? {};
  const host = event.host;
  const who = host ?? "a compute";
  const make = (severity: Severity, reason: string, title: string, siteWide = false): Alert => ({
    at: event.at,
    ...(host === undefined ? {} : { host }),
    kind: event.kind,
    severity,
    key: `${event.kind}:${siteWide ? "site" : (host ?? "site")}:${reason}`,
    title,
    detail: event.detail,
  });
  switch (event.kind) {
    case "alert":
      // The engine words one situation the same way each time; counts and times vary.
      return make("warning", event.detail.replace(/\d+/g, "#").slice(0, 120), event.detail);
    case "gate": {
      const gate = data.gate;
      if (data.act !== false || typeof gate !== "string" || !rules.gates.includes(gate as GateName))
        return undefined;
      if (gate === "dry-run") return make("info", gate, event.detail);
      const siteWide = SITE_WIDE.includes(gate as GateName);
      return make("critical", gate, `${who} is left as it is: ${event.detail}`, siteWide);
    }
    case "fence":
      // The entry when a fence starts has no `ok`; a confirmed fence is followed by its evacuation.
      if (data.ok !== false) return undefined;
      return make("critical", "fence-failed", `${who} not fenced, nothing evacuated: ${event.detail}`);
    case "evacuation": {
      const outcome = data.outcome;
      if (typeof outcome !== "string") return undefined;
      if (outcome === "evacuated" && data.failed === 0)
        return make("info", outcome, `${who} failed, was fenced and its VMs evacuated`);
      if (outcome === "planned") return make("info", outcome, event.detail);
      return make("critical", outcome, `${who} fenced, evacuation ${outcome}: ${event.detail}`);
    }
    default:
      return undefined;
  }
}
