/**
 * @module
 * One alert POSTed as JSON to the site's webhook, cut at its timeout: a receiver that hangs
 * must not hold alerts (or a process stopping) for longer than that.
 */
import { HastackError } from "../../util/errors.ts";
import { WebhookBody, type WebhookSettings } from "./settings.ts";

export async function postAlert(webhook: WebhookSettings, body: WebhookBody): Promise<void> {
  // The URL may carry a token (a chat's incoming webhook): errors name its origin only.
  const where = new URL(webhook.url).origin;
  const fail = (cause: string, error?: unknown): HastackError =>
    new HastackError("E_HA_NOTIFY", `Cannot post an alert to the webhook at ${where}: ${cause}`, {
      ...(error === undefined ? {} : { cause: error }),
    });
  let response: Response;
  try {
    response = await fetch(webhook.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(WebhookBody.parse(body)),
      signal: AbortSignal.timeout(webhook.timeout_ms),
      redirect: "error",
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    const cause = timedOut
      ? `no answer within ${webhook.timeout_ms} ms`
      : error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    throw fail(cause, error);
  }
  // Read to the end (or cancel) so the connection is freed; the body itself says nothing we use.
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw fail(`HTTP ${response.status} ${response.statusText}`.trim());
}
