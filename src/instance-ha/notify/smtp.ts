/**
 * @module
 * One alert mail through the site's relay (nodemailer): a fresh connection per mail, as alerts
 * are rare and a pooled connection to a relay that restarted would fail the next one. Bounded by
 * the relay timeouts; every failure is one HastackError naming the relay, never the password.
 */
import { createTransport } from "nodemailer";
import { HastackError } from "../../util/errors.ts";
import type { SmtpSettings } from "./settings.ts";

export interface MailText {
  subject: string;
  text: string;
}

/** The site's secrets by name (the password is looked up at each send: a rotated one is used). */
export type SecretLookup = (name: string) => string | undefined;

export async function sendAlertMail(smtp: SmtpSettings, secret: SecretLookup, mail: MailText): Promise<void> {
  const relay = `${smtp.host}:${smtp.port}`;
  const fail = (cause: string, error?: unknown): HastackError =>
    new HastackError("E_HA_NOTIFY", `Cannot send an alert mail through ${relay}: ${cause}`, {
      ...(error === undefined ? {} : { cause: error }),
    });
  let auth: { user: string; pass: string } | undefined;
  if (smtp.username !== undefined) {
    const pass = smtp.password_secret === undefined ? undefined : secret(smtp.password_secret);
    if (pass === undefined)
      throw fail(`the secret ${smtp.password_secret ?? "(none named)"} for ${smtp.username} is missing`);
    auth = { user: smtp.username, pass };
  }
  const transport = createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: false,
    requireTLS: smtp.starttls === "required",
    ignoreTLS: smtp.starttls === "off",
    connectionTimeout: smtp.timeout_ms,
    greetingTimeout: smtp.timeout_ms,
    socketTimeout: smtp.timeout_ms,
    logger: false,
    ...(auth ? { auth } : {}),
  });
  try {
    const info = await transport.sendMail({
      from: smtp.from,
      to: smtp.to,
      subject: mail.subject,
      text: mail.text,
    });
    const rejected = info.rejected.map(String);
    if (rejected.length > 0) throw fail(`the relay refused ${rejected.join(", ")}`);
  } catch (error) {
    if (error instanceof HastackError) throw error;
    throw fail(error instanceof Error ? error.message : String(error), error);
  } finally {
    transport.close();
  }
}
