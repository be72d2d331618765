/**
 * @module
 * Which backups a finished run deletes: complete backups (a manifest was stored) beyond the
 * `keep` newest, and the parts of runs that never stored a manifest (failed or cut short), when
 * they are older than the run that just completed. A newer incomplete one may be a run still in
 * progress elsewhere, so it is left alone.
 */

export interface StoredIds {
  /** Ids with a manifest. */
  complete: readonly string[];
  /** Ids with parts but no manifest. */
  incomplete: readonly string[];
}

/** Ids sort as their times do (backupId): newest first is a reverse string sort. */
export function toPrune(stored: StoredIds, keep: number, current: string): string[] {
  if (keep < 1) throw new RangeError(`keep must be at least 1, got ${keep}`);
  const newestFirst = [...new Set(stored.complete)].sort().reverse();
  // The run that just completed is always kept, whatever a clock skew made of the others' ids.
  const kept = new Set([current, ...newestFirst.filter((id) => id !== current).slice(0, keep - 1)]);
  const old = newestFirst.filter((id) => !kept.has(id));
  const leftovers = stored.incomplete.filter((id) => id < current && !kept.has(id));
  return [...new Set([...old, ...leftovers])].sort();
}
