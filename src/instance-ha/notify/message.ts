/**
 * @module
 * An alert in words: the mail's subject and text, and the webhook's body. Both say how many
 * alerts of the same subject were held back (or failed) since the last that went out.
 */
import type { Alert } from "./classify.ts";
import type { Slot } from "./rate-limit.ts";
import type { WebhookBody } from "./settings.ts";
import type { MailText } from "./smtp.ts";

export function subjectLine(site: string, alert: Alert): string {
  return `[hastack ${site}] ${alert.severity}: ${alert.title}`;
}

/** The sentence about what was held back, or undefined when nothing was. */
export function heldBack(slot: Slot): string | undefined {
  const parts: string[] = [];
  if (slot.suppressed > 0) {
    const since =
      slot.suppressedSince === undefined ? "" : ` since ${new Date(slot.suppressedSince).toISOString()}`;
    parts.push(`${slot.suppressed} more alert(s) with this subject were suppressed${since} (rate limit)`);
  }
  if (slot.failed > 0) parts.push(`${slot.failed} earlier attempt(s) to send it failed`);
  return parts.length > 0 ? `${parts.join("; ")}.` : undefined;
}

export function mailText(site: string, alert: Alert, slot: Slot): MailText {
  const note = heldBack(slot);
  const lines = [
    alert.detail,
    "",
    `site: ${site}`,
    ...(alert.host === undefined ? [] : [`host: ${alert.host}`]),
    `kind: ${alert.kind}`,
    `severity: ${alert.severity}`,
    `at: ${alert.at.toISOString()}`,
    ...(note === undefined ? [] : ["", note]),
    "",
    "Every step is in the engine's log and its history database (hastack_ha).",
  ];
  return { subject: subjectLine(site, alert), text: `${lines.join("\n")}\n` };
}

export function webhookBody(site: string, alert: Alert, slot: Slot): WebhookBody {
  const note = heldBack(slot);
  return {
    site,
    ...(alert.host === undefined ? {} : { host: alert.host }),
    kind: alert.kind,
    severity: alert.severity,
    subject: subjectLine(site, alert),
    detail: note === undefined ? alert.detail : `${alert.detail} (${note})`,
    at: alert.at.toISOString(),
    suppressed: slot.suppressed,
  };
}
