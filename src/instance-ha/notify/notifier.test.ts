import { afterEach, describe, expect, it } from "vitest";
import type { Alert } from "./classify.ts";
import { createNotifier, type NotifierDeps } from "./notifier.ts";
import { AlertSettings } from "./settings.ts";
import { type SmtpTestServer, startSmtpServer } from "./smtp-test-server.ts";
import { startWebhookServer, type WebhookTestServer } from "./webhook-test-server.ts";

/**
 * Against a REAL SMTP server (aiosmtpd, with AUTH) and a REAL HTTP server, both on loopback.
 * Only the rate limit's clock is the test's.
 */
const PASSWORD = "smtp-Pass-8812";
const open: { smtp?: SmtpTestServer; hook?: WebhookTestServer } = {};
afterEach(async () => {
  await open.smtp?.stop();
  await open.hook?.close();
  Object.assign(open, { smtp: undefined, hook: undefined });
});

function alert(over: Partial<Alert> = {}): Alert {
  return {
    at: new Date("2026-12-03T10:00:00Z"),
    host: "cmp1",
    kind: "fence",
    severity: "critical",
    key: "fence:cmp1:fence-failed",
    title: "cmp1 not fenced, nothing evacuated: power off not confirmed",
    detail: "Cannot fence cmp1: power off not confirmed after 3 attempts",
    ...over,
  };
}

function logger() {
  const lines: { fields: object; message: string }[] = [];
  const log = {
    info: (fields: object, message: string) => lines.push({ fields, message }),
    warn: (fields: object, message: string) => lines.push({ fields, message }),
  };
  return { log, lines, text: () => JSON.stringify(lines) };
}

function mailSettings(port: number, extra: object = {}) {
  return AlertSettings.parse({
    smtp: {
      host: "127.0.0.1",
      port,
      from: "hastack@example.org",
      to: ["ops@example.org", "oncall@example.org"],
      username: "alerts",
      password_secret: "smtp_alerts",
      timeout_ms: 5000,
    },
    interval_s: 3600,
    ...extra,
  });
}

function deps(log: NotifierDeps["log"], clock: { t: number }): NotifierDeps {
  return {
    site: "lab",
    log,
    secret: (name) => (name === "smtp_alerts" ? PASSWORD : undefined),
    now: () => clock.t,
  };
}

describe("instance-ha/notify: alerts by mail and webhook, rate limited per subject", () => {
  it("mails an alert through a real relay with AUTH; the same subject within the interval is suppressed and counted, and the next after it says so", async () => {
    const smtp = await startSmtpServer({ user: "alerts", password: PASSWORD });
    open.smtp = smtp;
    const clock = { t: Date.parse("2026-12-03T10:00:00Z") };
    const { log, lines } = logger();
    const n = createNotifier(mailSettings(smtp.port), deps(log, clock));

    n.notify(alert());
    const [first] = await smtp.received(1);
    expect(first).toMatchObject({
      from: "hastack@example.org",
      to: ["ops@example.org", "oncall@example.org"],
      login: "alerts",
      subject: "[hastack lab] critical: cmp1 not fenced, nothing evacuated: power off not confirmed",
    });
    expect(first?.text).toContain("Cannot fence cmp1: power off not confirmed after 3 attempts");
    expect(first?.text).toContain("host: cmp1");
    expect(first?.text).not.toContain("suppressed");

    // Same subject, ten minutes later and twenty: held back. Another subject goes out.
    clock.t += 600_000;
    n.notify(alert());
    clock.t += 600_000;
    n.notify(alert());
    n.notify(alert({ host: "cmp2", key: "fence:cmp2:fence-failed", title: "cmp2 not fenced" }));
    await n.flush();
    const [, second] = await smtp.received(2);
    expect(second?.subject).toBe("[hastack lab] critical: cmp2 not fenced");
    expect(n.counts()).toMatchObject({ sent: { mail: 2 }, suppressed: { mail: 2 }, failed: { mail: 0 } });

    // An hour after the first: it goes out, and says what was held back since when.
    clock.t = Date.parse("2026-12-03T11:00:00Z");
    n.notify(alert({ detail: "Cannot fence cmp1: the BMC did not answer" }));
    await n.flush();
    const third = (await smtp.received(3))[2];
    expect(third?.subject).toBe(
      "[hastack lab] critical: cmp1 not fenced, nothing evacuated: power off not confirmed",
    );
    expect(third?.text).toContain("Cannot fence cmp1: the BMC did not answer");
    expect(third?.text).toContain(
      "2 more alert(s) with this subject were suppressed since 2026-12-03T10:10:00.000Z (rate limit)",
    );
    expect(smtp.mails).toHaveLength(3);
    expect(lines).toEqual([]);
  });

  it("a dead relay or a refused login neither throws nor blocks the caller: logged without the password, counted, and the subject may go out again", async () => {
    const smtp = await startSmtpServer({ user: "alerts", password: "another-password" });
    open.smtp = smtp;
    const clock = { t: 0 };
    const { log, lines, text } = logger();
    const n = createNotifier(mailSettings(smtp.port), deps(log, clock));

    expect(n.notify(alert())).toBeUndefined();
    await n.flush();
    expect(n.counts().failed.mail).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.message).toBe(
      "alert not sent by mail: cmp1 not fenced, nothing evacuated: power off not confirmed",
    );
    expect(lines[0]?.fields).toMatchObject({
      channel: "mail",
      err: expect.stringMatching(/^Cannot send an alert mail through 127\.0\.0\.1:\d+: .*535/),
    });

    // The relay is gone: refused connection. The failed one gave its slot back, so this is tried.
    await smtp.stop();
    n.notify(alert());
    await n.flush();
    expect(n.counts()).toMatchObject({ sent: { mail: 0 }, suppressed: { mail: 0 }, failed: { mail: 2 } });
    expect(lines[1]?.fields).toMatchObject({ err: expect.stringMatching(/ECONNREFUSED/) });
    expect(text()).not.toContain(PASSWORD);
    expect(smtp.mails).toEqual([]);
  });

  it("a missing SMTP password secret is a failed send, named, not a throw", async () => {
    const smtp = await startSmtpServer({ user: "alerts", password: PASSWORD });
    open.smtp = smtp;
    const { log, lines } = logger();
    const n = createNotifier(mailSettings(smtp.port), { ...deps(log, { t: 0 }), secret: () => undefined });
    n.notify(alert());
    await n.flush();
    expect(lines[0]?.fields).toMatchObject({
      err: expect.stringMatching(/the secret smtp_alerts for alerts is missing/),
    });
    expect(smtp.mails).toEqual([]);
  });

  it("posts the alert as JSON to a real webhook, the suppressed count in it", async () => {
    const hook = await startWebhookServer();
    open.hook = hook;
    const clock = { t: 0 };
    const { log, lines } = logger();
    const n = createNotifier(
      AlertSettings.parse({ webhook: { url: hook.url }, interval_s: 60 }),
      deps(log, clock),
    );
    n.notify(alert());
    n.notify(alert());
    clock.t += 60_000;
    n.notify(alert());
    await n.flush();
    expect(await hook.received(2)).toEqual([
      {
        site: "lab",
        host: "cmp1",
        kind: "fence",
        severity: "critical",
        subject: "[hastack lab] critical: cmp1 not fenced, nothing evacuated: power off not confirmed",
        detail: "Cannot fence cmp1: power off not confirmed after 3 attempts",
        at: "2026-12-03T10:00:00.000Z",
        suppressed: 0,
      },
      expect.objectContaining({
        suppressed: 1,
        detail: expect.stringContaining("1 more alert(s) with this subject were suppressed since"),
      }),
    ]);
    expect(n.counts()).toMatchObject({ sent: { webhook: 2 }, suppressed: { webhook: 1 } });
    expect(lines).toEqual([]);
  });

  it("a webhook that never answers is cut at its timeout, logged without its token", async () => {
    const hook = await startWebhookServer("hang");
    open.hook = hook;
    const { log, lines, text } = logger();
    const n = createNotifier(
      AlertSettings.parse({ webhook: { url: hook.url, timeout_ms: 300 } }),
      deps(log, { t: 0 }),
    );
    n.notify(alert());
    await n.flush();
    expect(hook.hung).toBe(1);
    expect(n.counts().failed.webhook).toBe(1);
    expect(lines[0]?.fields).toMatchObject({
      channel: "webhook",
      err: expect.stringMatching(
        /^Cannot post an alert to the webhook at http:\/\/127\.0\.0\.1:\d+: no answer within 300 ms$/,
      ),
    });
    expect(text()).not.toContain("hook-token-123");
  });

  it("mail and webhook each limit on their own: one failing does not hold the other", async () => {
    const hook = await startWebhookServer();
    open.hook = hook;
    const smtp = await startSmtpServer();
    await smtp.stop(); // a port nothing listens on any more
    const { log } = logger();
    const settings = AlertSettings.parse({
      smtp: { host: "127.0.0.1", port: smtp.port, from: "hastack@example.org", to: ["ops@example.org"] },
      webhook: { url: hook.url },
    });
    const n = createNotifier(settings, deps(log, { t: 0 }));
    n.notify(alert());
    await n.flush();
    expect(await hook.received(1)).toHaveLength(1);
    expect(n.counts()).toMatchObject({ sent: { mail: 0, webhook: 1 }, failed: { mail: 1, webhook: 0 } });
  });
});
