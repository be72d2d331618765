/**
 * @module
 * What the collectors share: how long one question to a host may take, and which failures mean
 * "this host cannot be seen" (recorded, never thrown) as opposed to a host that answered
 * something wrong (an error: recover never guesses over it).
 */
import { type ErrorCode, HastackError } from "../../util/errors.ts";

/**
 * Per command. A reachable controller answers systemctl and SQL in well under a second, and a
 * rabbitmq-diagnostics call boots an Erlang VM (1-3 s, more on a loaded host).
 */
export const PROBE_MS = 15_000;

/**
 * `mariadbd --wsrep-recover` runs InnoDB's crash recovery first (what the next start would do
 * anyway): seconds on the lab, longer on a large redo log. Its own budget, not a probe's.
 */
export const WSREP_RECOVER_MS = 180_000;

/** The transport's own failures: no connection, no login, no answer in time. */
const UNREACHABLE: readonly ErrorCode[] = [
  "E_SSH_CONNECT",
  "E_SSH_TIMEOUT",
  "E_SSH_AUTH",
  "E_SSH_DISCONNECTED",
  "E_SSH_CHANNEL",
  "E_HOSTKEY_MISMATCH",
  "E_HOSTKEY_REVOKED",
  "E_HOSTKEY_UNKNOWN",
  "E_COMMAND_TIMEOUT",
  "E_COMMAND_ABORTED",
];

/**
 * The sentence to record when `error` means the host cannot be seen; undefined for any other
 * error, which the caller rethrows. A host that refuses our login is as unseen as one that is
 * off: the decision then asks its BMC, and a powered-on host it cannot see makes it wait or refuse.
 */
export function unreachableWhy(error: unknown): string | undefined {
  if (error instanceof HastackError && UNREACHABLE.includes(error.code)) return error.message;
  return undefined;
}
