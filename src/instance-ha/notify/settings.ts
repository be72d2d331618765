/**
 * @module
 * Where the instance-HA engine's alerts go (issue #10 item 7): mail over SMTP, a webhook, or
 * both, at most one per subject per interval (UMHA's `send_interval_hours`). What the inventory
 * will carry once it is wired in (`AlertSettings`), and the JSON a webhook receives.
 */
import { z } from "zod";
import type { GateName } from "../gates.ts";
import { EVENT_KINDS } from "../store-rows.ts";

const GATES = [
  "valve",
  "control-plane",
  "cycle-limit",
  "dry-run",
  "quorum",
  "backoff",
] as const satisfies readonly GateName[];

export const SmtpSettings = z.strictObject({
  host: z.string().min(1).describe("the mail relay's name or address"),
  port: z.int().min(1).max(65535).default(25).describe("the relay's SMTP port (submission: 587)"),
  from: z.email().describe("the sender of every alert mail"),
  to: z.array(z.email()).min(1).describe("who gets the alert mails"),
  starttls: z
    .enum(["required", "if-offered", "off"])
    .default("if-offered")
    .describe("STARTTLS: refuse a relay without it, use it when the relay offers it, or never"),
  username: z.string().min(1).optional().describe("the SMTP AUTH user; none: no AUTH"),
  password_secret: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, "must be a lowercase secret name")
    .optional()
    .describe("the name of the site secret holding the SMTP AUTH password (never the password itself)"),
  timeout_ms: z
    .int()
    .min(100)
    .default(10_000)
    .describe(
      "connecting, the greeting and each reply of the relay: a relay slower than this fails the mail",
    ),
});
export type SmtpSettings = z.output<typeof SmtpSettings>;

export const WebhookSettings = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).describe("receives each alert as a JSON POST (see WebhookBody)"),
  timeout_ms: z
    .int()
    .min(100)
    .default(5000)
    .describe("a webhook that has not answered by then is cut and counts as failed"),
});
export type WebhookSettings = z.output<typeof WebhookSettings>;

export const AlertSettings = z
  .strictObject({
    smtp: SmtpSettings.optional().describe("mail the alerts through this relay"),
    webhook: WebhookSettings.optional().describe("POST the alerts to this URL"),
    interval_s: z
      .int()
      .min(0)
      .default(3600)
      .describe(
        "at most one alert per subject (kind, host, reason) per interval and channel; the next says how many were suppressed (UMHA's send_interval_hours)",
      ),
    gates: z
      .array(z.enum(GATES))
      .default(["valve", "control-plane", "dry-run"])
      .describe(
        "the gates whose refusals are alerted; quorum is an alert of its own, backoff follows a failed fence (alerted), cycle-limit only defers",
      ),
  })
  .refine((s) => s.smtp?.password_secret === undefined || s.smtp.username !== undefined, {
    message: "smtp.password_secret needs smtp.username (AUTH sends both)",
    path: ["smtp", "username"],
  });
export type AlertSettings = z.output<typeof AlertSettings>;

export type Severity = "info" | "warning" | "critical";

/** What a webhook receives: one alert, as JSON. */
export const WebhookBody = z.strictObject({
  site: z.string().min(1).describe("the site (the inventory's cluster name)"),
  host: z.string().min(1).optional().describe("the compute it is about; absent for engine-wide alerts"),
  kind: z.enum(EVENT_KINDS).describe("the kind of history entry that raised it"),
  severity: z.enum(["info", "warning", "critical"]).describe("critical: a failed host is left as it is"),
  subject: z.string().min(1).describe("one line, as in the mail's subject"),
  detail: z.string().describe("the engine's sentence, and how many alerts like it were suppressed"),
  at: z.iso.datetime().describe("when the engine recorded it (UTC)"),
  suppressed: z
    .int()
    .min(0)
    .describe("alerts with this subject not sent since the last one that went out (rate limit)"),
});
export type WebhookBody = z.output<typeof WebhookBody>;
