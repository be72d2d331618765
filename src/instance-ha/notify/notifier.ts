/**
 * @module
 * Sends alerts without ever holding up or failing the caller: `notify` returns at once, each
 * channel (mail, webhook) rate-limits per subject on its own, and a send that fails is logged
 * and counted, never thrown. The engine's decisions must not wait on a mail relay.
 */
import type { EngineLog } from "../engine-actions.ts";
import type { Alert } from "./classify.ts";
import { mailText, webhookBody } from "./message.ts";
import { type RateLimiter, rateLimiter, type Slot } from "./rate-limit.ts";
import type { AlertSettings } from "./settings.ts";
import { type SecretLookup, sendAlertMail } from "./smtp.ts";
import { postAlert } from "./webhook.ts";

export type Channel = "mail" | "webhook";

export interface NotifierCounts {
  sent: Record<Channel, number>;
  suppressed: Record<Channel, number>;
  failed: Record<Channel, number>;
}

export interface Notifier {
  /** Hands the alert to each channel and returns at once. */
  notify(alert: Alert): void;
  /** Resolves when every send under way has finished (tests; a daemon that stops). */
  flush(): Promise<void>;
  counts(): NotifierCounts;
}

export interface NotifierDeps {
  /** The site's name (the inventory's cluster), in every subject. */
  site: string;
  log: EngineLog;
  /** The site's secrets by name: the SMTP password. */
  secret: SecretLookup;
  /** Wall clock in ms, for the rate limit. @default Date.now */
  now?: () => number;
}

export function createNotifier(settings: AlertSettings, deps: NotifierDeps): Notifier {
  const { site, log } = deps;
  const now = deps.now ?? Date.now;
  const zero = (): Record<Channel, number> => ({ mail: 0, webhook: 0 });
  const counts: NotifierCounts = { sent: zero(), suppressed: zero(), failed: zero() };
  const pending = new Set<Promise<void>>();
  const sends: [Channel, RateLimiter, (alert: Alert, slot: Slot) => Promise<void>][] = [];
  const { smtp, webhook } = settings;
  if (smtp)
    sends.push([
      "mail",
      rateLimiter(settings.interval_s),
      (alert, slot) => sendAlertMail(smtp, deps.secret, mailText(site, alert, slot)),
    ]);
  if (webhook)
    sends.push([
      "webhook",
      rateLimiter(settings.interval_s),
      (alert, slot) => postAlert(webhook, webhookBody(site, alert, slot)),
    ]);

  function notify(alert: Alert): void {
    for (const [channel, limiter, send] of sends) {
      const slot = limiter.take(alert.key, now());
      if (!slot) {
        counts.suppressed[channel]++;
        continue;
      }
      const p = Promise.resolve()
        .then(() => send(alert, slot))
        .then(
          () => {
            counts.sent[channel]++;
          },
          (error: unknown) => {
            counts.failed[channel]++;
            limiter.giveBack(slot);
            // The error names the relay or the webhook's origin, never a password or a URL's token.
            const err = error instanceof Error ? error.message : String(error);
            log.warn({ channel, subject: alert.key, err }, `alert not sent by ${channel}: ${alert.title}`);
          },
        )
        .finally(() => pending.delete(p));
      pending.add(p);
    }
  }

  return {
    notify,
    async flush() {
      while (pending.size > 0) await Promise.all(pending);
    },
    counts: () => structuredClone(counts),
  };
}
