/**
 * @module
 * One alert per subject per interval (UMHA's send_interval_hours), per channel: what is held back
 * is counted, and the next one that goes out says so. A send that failed gives its slot back, so
 * a relay that was down does not swallow the next alert of that subject for an hour as well.
 */

/** A slot taken for one send: how many were held back before it, to report and to give back. */
export interface Slot {
  key: string;
  suppressed: number;
  /** When the first of those was held back (ms); none when nothing was. */
  suppressedSince?: number;
  /** Earlier sends of this subject that failed. */
  failed: number;
  previousSent?: number;
}

interface Entry {
  sent?: number;
  suppressed: number;
  suppressedSince?: number;
  failed: number;
}

export interface RateLimiter {
  /** A slot when the subject may go out now; undefined (and counted) when it is held back. */
  take(key: string, now: number): Slot | undefined;
  /** The send failed: the subject may go out again at once, its counts kept for the next. */
  giveBack(slot: Slot): void;
}

export function rateLimiter(intervalS: number): RateLimiter {
  const entries = new Map<string, Entry>();
  return {
    take(key, now) {
      const e = entries.get(key) ?? { suppressed: 0, failed: 0 };
      if (e.sent !== undefined && now - e.sent < intervalS * 1000) {
        entries.set(key, { ...e, suppressed: e.suppressed + 1, suppressedSince: e.suppressedSince ?? now });
        return undefined;
      }
      entries.set(key, { sent: now, suppressed: 0, failed: 0 });
      return {
        key,
        suppressed: e.suppressed,
        failed: e.failed,
        ...(e.suppressedSince === undefined ? {} : { suppressedSince: e.suppressedSince }),
        ...(e.sent === undefined ? {} : { previousSent: e.sent }),
      };
    },
    giveBack(slot) {
      const now = entries.get(slot.key);
      // Held back meanwhile (the send was under way): those count too.
      const heldBack = now?.suppressed ?? 0;
      const since = slot.suppressedSince ?? now?.suppressedSince;
      entries.set(slot.key, {
        ...(slot.previousSent === undefined ? {} : { sent: slot.previousSent }),
        suppressed: slot.suppressed + heldBack,
        ...(since === undefined ? {} : { suppressedSince: since }),
        failed: slot.failed + 1 + (now?.failed ?? 0),
      });
    },
  };
}
