/**
 * @module
 * What `hastack recover` did, one JSON line per action in
 * `<inventory dir>/.hastack/runs/recover-<run id>.jsonl`, appended synchronously as it happens:
 * a recovery cut short (a lost SSH session, a second power cut) still says which node was marked
 * safe, which was bootstrapped and which joined. The deploy journal's directory and run ids; its
 * own file prefix, so that `deploy --resume` never reads a recovery as a deploy run.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { newRunId, runsDir } from "../../deploy/journal.ts";

export const RECOVER_JOURNAL_PREFIX = "recover-";

export type JournalEntry =
  | { type: "recover-start"; plan: string }
  | {
      type: "action";
      host: string;
      step: string;
      command?: string;
      status: "started" | "done" | "failed";
      error?: string;
    }
  | { type: "wait"; host: string; step: string; status: "done" | "failed"; seen: string }
  | { type: "refused"; code: string; reason: string }
  | { type: "recover-end"; status: "ok" | "failed"; error?: string }
  /** `recover --auto`: each decision that changed (auto.ts). */
  | { type: "auto"; decision: "idle" | "hold" | "act" | "alert"; reason: string };

export interface RecoverJournal {
  path: string;
  write(entry: JournalEntry): void;
}

/**
 * The file is created by the first line: a recovery that acts on nothing leaves none. `prefix`:
 * another command that acts through the same steps (`backup restore`) keeps its own files.
 */
export function recoverJournal(
  inventoryPath: string,
  now = new Date(),
  prefix = RECOVER_JOURNAL_PREFIX,
): RecoverJournal {
  const dir = runsDir(inventoryPath);
  const path = join(dir, `${prefix}${newRunId(now)}.jsonl`);
  return {
    path,
    write(entry) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      appendFileSync(path, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`, {
        mode: 0o600,
      });
    },
  };
}

/** For tests and callers that keep the lines in memory. */
export function memoryJournal(): RecoverJournal & { entries: JournalEntry[] } {
  const entries: JournalEntry[] = [];
  return { path: "(memory)", entries, write: (e) => void entries.push(e) };
}
