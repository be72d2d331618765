/**
 * @module
 * A session for a process that runs for months (the instance-HA engine): logs in when first
 * asked, logs in again before the token is old (Keystone's default expiry is an hour) and once
 * more when an answer says 401, and never holds a failed login: the next call tries again. The
 * catalogue of the last good login answers `url()`; before any login succeeded, `url()` throws.
 * A catalogue without the endpoint asked for is not kept either: an engine that logged in while
 * the deploy had not yet registered Nova saw "control plane down" until its token aged out, 20
 * minutes (lab, 2026-12-05: a storage-cut compute left failed and unfenced). Such a miss asks for
 * a new login at the next call, at most once per `catalogRetryMs`.
 */
import { HastackError } from "../util/errors.ts";
import { type Answer, type Credentials, login, type Session } from "./client.ts";

export interface KeptSession extends Pick<Session, "url" | "call"> {
  /** Logs in now unless a fresh token is held; throws what the login threw. */
  ready(): Promise<void>;
}

export interface KeptSessionOptions {
  /** A token older than this is replaced before its next use. @default 20 minutes */
  maxAgeMs?: number;
  /** @default Date.now */
  clock?: () => number;
  /** @default login */
  login?: (creds: Credentials) => Promise<Session>;
  /** A catalogue that missed an endpoint is replaced when older than this. @default 10 s */
  catalogRetryMs?: number;
}

export function keptSession(creds: Credentials, options: KeptSessionOptions = {}): KeptSession {
  const maxAge = options.maxAgeMs ?? 20 * 60_000;
  const clock = options.clock ?? Date.now;
  const doLogin = options.login ?? ((c: Credentials) => login(c));
  const catalogRetry = options.catalogRetryMs ?? 10_000;
  let held: { session: Session; at: number; missed?: boolean } | undefined;
  let pending: Promise<Session> | undefined;

  function fresh(force: boolean): Promise<Session> {
    const age = held ? clock() - held.at : 0;
    const stale = held?.missed === true && age >= catalogRetry;
    if (held && !force && !stale && age < maxAge) return Promise.resolve(held.session);
    // One login at a time, however many calls wait for it.
    pending ??= doLogin(creds)
      .then((session) => {
        held = { session, at: clock() };
        return session;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  return {
    async ready() {
      await fresh(false);
    },
    url(type) {
      if (!held)
        throw new HastackError(
          "E_OPENSTACK_API",
          `Cannot find the ${type} endpoint: no login to ${creds.authUrl} as ${creds.username} has succeeded yet`,
        );
      try {
        return held.session.url(type);
      } catch (error) {
        held.missed = true;
        throw error;
      }
    },
    async call(method, url, body, timeoutMs, headers): Promise<Answer> {
      const session = await fresh(false);
      const answer = await session.call(method, url, body, timeoutMs, headers);
      if (answer.status !== 401) return answer;
      // Revoked or expired early (a Keystone restored from a backup, fernet keys rotated): once more.
      return (await fresh(true)).call(method, url, body, timeoutMs, headers);
    },
  };
}
