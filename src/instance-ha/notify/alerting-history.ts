/**
 * @module
 * The engine's history with alerts on the side: every entry goes to the inner history as it is,
 * and those an operator must hear about (classify.ts) to the notifier too. The engine daemon
 * wraps its store with it; the engine itself knows nothing of mail.
 */
import type { EngineHistory } from "../engine-actions.ts";
import { type AlertRules, alertFor } from "./classify.ts";
import type { Notifier } from "./notifier.ts";

export function alertingHistory(inner: EngineHistory, notifier: Notifier, rules: AlertRules): EngineHistory {
  return {
    record(event) {
      // Before the write: a history database that is down is one more reason to tell someone.
      // A fault in the alerting itself must not cost the history its entry.
      try {
        const alert = alertFor(event, rules);
        if (alert) notifier.notify(alert);
      } catch {}
      return inner.record(event);
    },
    upsertHost: (snapshot) => inner.upsertHost(snapshot),
    hosts: () => inner.hosts(),
  };
}
